import { cp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runQuery } from '../../src/lakehouse/query.js';
import { kill9, killAll, serve } from './processes.js';
import { order, postJson, TENANT_A, tempWarehouse, until } from './support.js';

afterEach(async () => {
  await killAll();
});

const count = async (warehouse: string) =>
  (await runQuery(warehouse, 'SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS d FROM orders')).rows[0] as {
    n: number;
    d: number;
  };

describe('lakehouse serve under SIGKILL', () => {
  it('keeps every acknowledged record exactly once across a kill before commit and a replayed segment', async () => {
    const warehouse = await tempWarehouse();
    // A roll interval far longer than the test: acknowledged records stay staged, uncommitted.
    const first = await serve(warehouse, ['--roll-interval-ms', '3600000']);
    const batches = Array.from({ length: 5 }, (_, b) =>
      Array.from({ length: 20 }, (_, i) =>
        order(TENANT_A, `2026-02-0${1 + (i % 5)}T10:00:00Z`, Number((1 + b + i / 100).toFixed(2)), 'c'),
      ),
    );
    for (const batch of batches) {
      const r = await postJson(`${first.url}/ingest/orders`, batch);
      expect(r).toEqual({ status: 200, body: { committed: 20 } });
    }
    expect((await count(warehouse)).n).toBe(0); // acknowledged, not yet committed
    const staging = join(warehouse, '_staging', 'lakehouse.orders');
    const copy = join(warehouse, '..', `${Date.now()}-staging-copy`);
    await cp(staging, copy, { recursive: true });
    await kill9(first.child);

    // Restart: what was staged is committed at start.
    const second = await serve(warehouse, ['--roll-interval-ms', '50']);
    await until('the staged records to be committed', async () =>
      (await count(warehouse)).n === 100 ? true : undefined,
    );
    expect(await count(warehouse)).toEqual({ n: 100, d: 100 });
    // A retry of an acknowledged batch (at-least-once delivery) is acknowledged and dropped.
    expect(await postJson(`${second.url}/ingest/orders`, batches[0])).toEqual({
      status: 200,
      body: { committed: 20 },
    });
    await kill9(second.child);

    // Crash after the Iceberg commit but before the segment was deleted: put the segment back.
    await cp(copy, staging, { recursive: true });
    expect((await readdir(staging)).length).toBeGreaterThan(0);
    const third = await serve(warehouse, ['--roll-interval-ms', '50']);
    await until('the replayed segment to be discarded', async () =>
      (await readdir(staging)).length === 0 ? true : undefined,
    );
    expect(await count(warehouse)).toEqual({ n: 100, d: 100 });
    const ids = (await runQuery(warehouse, 'SELECT event_id FROM orders')).rows.map((r) => r.event_id);
    expect(new Set(ids)).toEqual(new Set(batches.flat().map((r) => r.event_id)));
    await kill9(third.child);
  });
});
