import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runQuery } from '../../src/lakehouse/query.js';
import { killAll, serve } from './processes.js';
import { order, startServer, stopAll, TENANT_A, tempWarehouse, until } from './support.js';

afterEach(async () => {
  await killAll();
  await stopAll();
});

const activity = (fields: Record<string, unknown> = {}) => ({
  event_id: randomUUID(),
  event_type: 'activity.recorded',
  tenant_id: TENANT_A,
  session_id: 's1',
  activity_type: 'search',
  search_query: 'shoes',
  occurred_at: '2026-02-01T10:00:00Z',
  ...fields,
});

const post = async (url: string, text: string) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: text,
  });
  return { status: res.status, body: (await res.json()) as { errors?: unknown[] } };
};

const count = async (warehouse: string, table: string) =>
  Number((await runQuery(warehouse, `SELECT COUNT(*) AS n FROM ${table}`)).rows[0]!.n);

describe('nothing acknowledged can wedge a table', () => {
  it('rejects a lone surrogate and a timestamp past year 9999 in UTC with 400 naming index and field', async () => {
    const s = await startServer();
    // JSON.stringify would escape the surrogate pair anyway: write the escape as the relay's JSON would carry it.
    const surrogate = JSON.stringify([activity(), activity({ search_query: 'x' })]).replace(
      /"search_query":"x"/,
      '"search_query":"a\\ud800b"',
    );
    const r1 = await post(`${s.url}/ingest/user_activity`, surrogate);
    expect(r1.status).toBe(400);
    expect(r1.body.errors).toEqual([
      { index: 1, field: 'search_query', message: expect.stringMatching(/surrogate/) },
    ]);

    const late = [
      order(TENANT_A, '2026-02-01T10:00:00Z', 1, null),
      order(TENANT_A, '9999-12-31T23:00:00-14:00', 1, null),
    ];
    const r2 = await post(`${s.url}/ingest/orders`, JSON.stringify(late));
    expect(r2.status).toBe(400);
    expect(r2.body.errors).toEqual([
      { index: 1, field: 'created_at', message: expect.stringMatching(/9999/) },
    ]);
    const early = [order(TENANT_A, '0001-01-01T00:30:00+01:00', 1, null)];
    expect((await post(`${s.url}/ingest/orders`, JSON.stringify(early))).status).toBe(400);

    // Nothing of the rejected requests was kept; the table keeps committing.
    const ok = [activity(), activity()];
    expect(await post(`${s.url}/ingest/user_activity`, JSON.stringify(ok))).toEqual({
      status: 200,
      body: { committed: 2 },
    });
    await s.ingestor.flush();
    expect(await count(s.warehouse, 'user_activity')).toBe(2);
  });

  it('quarantines staged records a commit cannot write, commits the rest, and restarts', async () => {
    const warehouse = await tempWarehouse();
    // Records staged by an older server that did not check them, then a crash: the restart must not exit.
    const staging = join(warehouse, '_staging', 'lakehouse.user_activity');
    await mkdir(staging, { recursive: true });
    const good = [activity(), activity(), activity()];
    const bad = JSON.stringify(activity({ search_query: 'x' })).replace('"x"', '"\\ud800"');
    const lines = [
      JSON.stringify(good[0]),
      bad,
      JSON.stringify(good[1]),
      '{"torn": ',
      JSON.stringify(good[2]),
    ];
    await writeFile(join(staging, '000000000001.ndjson'), `${lines.join('\n')}\n`);

    const s = await serve(warehouse, ['--roll-interval-ms', '50']);
    await until('the good records to be committed', async () =>
      (await count(warehouse, 'user_activity')) === 3 ? true : undefined,
    );
    const ids = (await runQuery(warehouse, 'SELECT event_id FROM user_activity')).rows.map((r) => r.event_id);
    expect(new Set(ids)).toEqual(new Set(good.map((g) => g.event_id)));
    const qdir = join(warehouse, '_quarantine', 'lakehouse.user_activity');
    const quarantined = (await Promise.all((await readdir(qdir)).map((f) => readFile(join(qdir, f), 'utf8'))))
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { error: string; record: string });
    expect(quarantined.map((q) => q.record).sort()).toEqual([bad, '{"torn": '].sort());
    expect(s.stderr()).toContain('quarantined');

    // Later commits of the table go on.
    const more = [activity()];
    expect((await post(`${s.url}/ingest/user_activity`, JSON.stringify(more))).status).toBe(200);
    await until('the next commit', async () =>
      (await count(warehouse, 'user_activity')) === 4 ? true : undefined,
    );
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(await readdir(staging)).toEqual([]);
  });
});
