import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pipelines } from '../../src/pipelines/definitions.js';
import { createHttpSink } from '../../src/pipelines/httpSink.js';
import { outboxGroupsSql } from '../../src/reports/reconcileSql.js';
import { startServer, stopAll } from '../lakehouse/support.js';
import { runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { dropOneOrdersFile, relayUntilDelivered } from './support.js';

/**
 * Reconcile after `lakehouse prune`: the outbox's delivered side is the rollup prune keeps
 * plus the events still stored, so removing delivered events changes no group.
 */

let db: TestDb;
let lake: Awaited<ReturnType<typeof startServer>>;

const TENANTS = ['shop:eu', 'acme', 'bistro-1'];
const DAYS = ['2026-01-03', '2026-01-04', '2026-02-10'];

async function emitAll(): Promise<number> {
  let n = 0;
  for (const tenant of TENANTS) {
    for (const [d, day] of DAYS.entries()) {
      for (let k = 0; k < 3 + d; k++) {
        await db.outbox.emit(
          db.pool,
          {
            stream: 'orders',
            data: order(`${tenant}-${day}-${k}`, tenant, {
              total_amount: Number(`${10 + k}.${(n % 97).toString().padStart(2, '0')}01`),
              created_at: `${day}T${String(8 + k).padStart(2, '0')}:00:00Z`,
            }),
          },
          { stream: 'product_changes', data: priceChange(tenant, day, n) },
        );
        n++;
      }
    }
  }
  // A zero-amount order: delivered, dropped by the pipeline's filter, expected to be absent.
  await db.outbox.emit(db.pool, {
    stream: 'orders',
    data: order('free-1', 'acme', { total_amount: 0, created_at: '2026-01-04T09:00:00Z' }),
  });
  return n * 2 + 1;
}

function priceChange(tenant: string, day: string, n: number) {
  return {
    product_id: `p-${n % 4}`,
    tenant_id: tenant,
    change_type: 'price' as const,
    old_price: 5 + (n % 7),
    new_price: 6 + (n % 5),
    changed_at: `${day}T12:00:00Z`,
  };
}

async function relayEverything() {
  await relayUntilDelivered(db, createHttpSink({ url: `${lake.url}/ingest/{stream}`, timeoutMs: 5000 }));
  await lake.ingestor.flush();
}

interface ReconcileJson {
  ok: boolean;
  groups: number;
  tables: { table: string; delivered: number; filtered: number; lakeEvents: number }[];
  problems: { table: string; tenant_id: string; day: string; status: string; delivered: number }[];
}

const reconcileCli = async (...args: string[]) => {
  const r = await runCli(['reconcile', '--url', lake.url, '--json', '--settle', '0s', ...args], {
    env: db.env,
  });
  return { code: r.code, stderr: r.stderr, out: JSON.parse(r.stdout || 'null') as ReconcileJson };
};

/** Makes every `every`-th event two days old, so prune --older-than 1d takes it. */
async function age(every: number) {
  await db.pool.query(
    `UPDATE "${db.schema}".events SET created_at = now() - interval '2 days' WHERE position % $1 = 0`,
    [every],
  );
}

const outboxGroups = async (stream: 'orders' | 'product_changes') =>
  (await db.pool.query(outboxGroupsSql(db.schema, pipelines[stream]), [stream])).rows
    .map((r: Record<string, unknown>) => ({ ...r, last_delivered_at: undefined }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

let emitted = 0;
let before: { orders: unknown[]; product_changes: unknown[] };

beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  lake = await startServer();
  emitted = await emitAll();
  await relayEverything();
  before = { orders: await outboxGroups('orders'), product_changes: await outboxGroups('product_changes') };
});
afterAll(async () => {
  await stopAll();
  await db?.close();
});

describe('reconcile after prune', () => {
  it('the delivered groups (counts, filtered, exact money sums) are the same after two prunes as before', async () => {
    const first = await reconcileCli();
    expect(first.code, first.stderr).toBe(0);
    // A third of each group first (its rollup row plus stored events), then the rest (added to it).
    // The first through the library in batches of 2 (many statements adding to the same rows).
    await age(3);
    const half = await db.outbox.prune(db.pool, { olderThanSeconds: 86_400, batchSize: 2 });
    expect(half).toBe(Math.floor(emitted / 3));
    expect(await outboxGroups('orders')).toEqual(before.orders);
    await age(1);
    const two = await runCli(['prune', '--older-than', '1d', '--json'], { env: db.env });
    expect(JSON.parse(two.stdout).deleted + half).toBe(emitted);
    const left = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".events`);
    expect(left.rows[0].n).toBe(0);
    expect(await outboxGroups('orders')).toEqual(before.orders);
    expect(await outboxGroups('product_changes')).toEqual(before.product_changes);
  });

  it('reconcile exits 0 after prune with the same counts: every delivered event in the lake, the free order filtered', async () => {
    const r = await reconcileCli();
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.problems).toEqual([]);
    expect(r.out.groups).toBe(TENANTS.length * DAYS.length * 2);
    const orders = r.out.tables.find((t) => t.table === 'lakehouse.orders')!;
    expect(orders).toMatchObject({
      delivered: (emitted - 1) / 2 + 1,
      filtered: 1,
      lakeEvents: (emitted - 1) / 2,
    });
    const changes = r.out.tables.find((t) => t.table === 'lakehouse.product_changes')!;
    expect(changes).toMatchObject({
      delivered: (emitted - 1) / 2,
      filtered: 0,
      lakeEvents: (emitted - 1) / 2,
    });
  });

  it('after prune, a lake file taken away still makes reconcile exit 1 naming its group as missing', async () => {
    await dropOneOrdersFile(lake.warehouse, (p) => p.tenant_id === 'shop:eu' && p.month === 2);
    const r = await reconcileCli();
    expect(r.code).toBe(1);
    expect(r.out.problems).toEqual([
      expect.objectContaining({
        table: 'lakehouse.orders',
        tenant_id: 'shop:eu',
        day: '2026-02-10',
        status: 'missing',
        delivered: 5,
      }),
    ]);
  });
});
