import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compact } from '../../src/lakehouse/compact.js';
import { runQuery } from '../../src/lakehouse/query.js';
import { runCli } from '../support/cli.js';
import { planDataset, postJson, startServer, stopAll } from './support.js';

/** Lake answers that must not depend on how they are asked: pruning and tenant ids as data. */
let warehouse: string;
let server: Awaited<ReturnType<typeof startServer>>;
const TENANTS = ['NULL', "o'brien", 'ü ñ 租户', 'shop:eu', 'x@y', 'a/b', 'a=b', '%41'];

const orderOf = (tenant: string, i: number) => ({
  event_id: randomUUID(),
  event_type: 'order.placed',
  order_id: `o-${i}`,
  tenant_id: tenant,
  site_id: 's1',
  total_amount: 10 + i,
  currency: 'EUR',
  status: 'placed',
  item_count: 1,
  created_at: `2026-0${1 + (i % 2)}-10T10:00:00Z`,
});

beforeAll(async () => {
  const s = await startServer();
  warehouse = s.warehouse;
  server = s;
  for (const [stream, records] of Object.entries(planDataset())) {
    expect((await postJson(`${s.url}/ingest/${stream}`, records)).status).toBe(200);
  }
  // Two commits per tenant, so compaction has files to merge.
  for (const round of [0, 1]) {
    const body = TENANTS.flatMap((t, k) => [
      orderOf(t, k * 10 + round * 2),
      orderOf(t, k * 10 + round * 2 + 1),
    ]);
    expect((await postJson(`${s.url}/ingest/orders`, body)).status).toBe(200);
    await s.ingestor.flush();
  }
});
afterAll(async () => {
  await stopAll();
});

const count = async (sql: string) => Number((await runQuery(warehouse, sql)).rows[0]!.n);

describe('partition pruning', () => {
  const predicates = [
    'month = 2',
    'month = 2.0',
    'month = 2.00',
    'month = 2e0',
    "month = '2'",
    "month = '02'",
    'month = 2::DOUBLE',
    'month = CAST(2 AS BIGINT)',
    "month = CAST('2' AS INTEGER)",
    'month = 2.5',
    'month IN (2.0, 3)',
    "month IN ('2', 1.0)",
    'month BETWEEN 1.5 AND 2.5',
    'month > 1.5',
    'month >= 2.0',
    'month < 2.0',
    'month <= 1.9',
    'month <> 2.0',
    'NOT month = 2',
    'month = 2 OR year = 2025',
    'month + 0 = 2',
    "CAST(month AS VARCHAR) = '2'",
    'year = 2026 AND month = 2.0',
    "year = '2026' AND month IN (1, 2)",
    "month = 2 AND tenant_id = 'shop:eu'",
    'month IS NULL',
    "tenant_id = 'NULL'",
    "tenant_id IN ('NULL', 'a/b')",
  ];
  it.each(predicates)('answers "%s" exactly as without pruning', async (p) => {
    const pruned = await count(`SELECT COUNT(*) AS n FROM orders WHERE ${p}`);
    const unpruned = await count(`SELECT COUNT(*) AS n FROM (SELECT * FROM orders) AS t WHERE ${p}`);
    expect(pruned).toBe(unpruned);
  });

  it('still prunes the predicates it can decide', async () => {
    const r = await runQuery(warehouse, 'SELECT COUNT(*) AS n FROM orders WHERE month = 2.0 AND year = 2026');
    expect(r.metrics.files_scanned).toBeLessThan(r.metrics.files_total);
    const d = await runQuery(
      warehouse,
      "SELECT COUNT(*) AS n FROM user_activity WHERE date = DATE '2026-2-1'",
    );
    expect(d.rows[0]!.n).toBe(1);
  });
});

describe('tenant ids are data', () => {
  it('round-trips NULL, quotes, unicode, : @ / through ingest, compaction and --tenant', async () => {
    const check = async () => {
      const all = await runQuery(
        warehouse,
        'SELECT tenant_id, COUNT(*) AS n FROM lakehouse.orders GROUP BY tenant_id',
      );
      const byTenant = new Map(all.rows.map((r) => [r.tenant_id, r.n]));
      expect(byTenant.has(null)).toBe(false);
      for (const t of TENANTS) {
        expect(byTenant.get(t), t).toBe(4);
        const scoped = await runQuery(
          warehouse,
          'SELECT tenant_id, COUNT(*) AS n FROM orders GROUP BY tenant_id',
          {
            tenant: t,
          },
        );
        expect(scoped.rows, t).toEqual([{ tenant_id: t, n: 4 }]);
      }
    };
    await check();
    const [result] = await compact({ warehouse, table: 'orders' });
    expect(result!.filesRemoved).toBeGreaterThan(0);
    await check();
    const cli = await runCli(
      ['report', 'platform-health', '--month', '2026-01', '--tenant', "o'brien", '--json'],
      {
        env: { ...process.env, LAKEHOUSE_WAREHOUSE: warehouse },
      },
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject([{ active_tenants: 1, total_orders: 2 }]);
  });

  it('takes an upper-case spelling of a stored event_id as the same event', async () => {
    const rec = orderOf('case-test', 1);
    expect((await postJson(`${server.url}/ingest/orders`, [rec])).status).toBe(200);
    await server.ingestor.flush();
    const again = await postJson(`${server.url}/ingest/orders`, [
      { ...rec, event_id: rec.event_id.toUpperCase() },
    ]);
    expect(again.status).toBe(200);
    await server.ingestor.flush();
    const n = await runQuery(warehouse, "SELECT event_id FROM orders WHERE tenant_id = 'case-test'");
    expect(n.rows).toEqual([{ event_id: rec.event_id.toLowerCase() }]);
  });
});
