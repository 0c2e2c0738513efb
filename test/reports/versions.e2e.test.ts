import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ordersPipeline } from '../../src/pipelines/definitions.js';
import { createHttpSink } from '../../src/pipelines/httpSink.js';
import type { PipelineDefinition } from '../../src/pipelines/types.js';
import { versionNames } from '../../src/pipelines/versions.js';
import { PIPELINES, startServer, stopAll, tempWarehouse } from '../lakehouse/support.js';
import { runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { relayUntilDelivered } from './support.js';

/**
 * A stream with two versions, as after `pipelines apply --new-version orders`: the first
 * orders went to `lakehouse.orders` (an older schema, without `customer_id` and
 * `payment_method`), the later ones to `lakehouse.orders_v2`. Reports and reconcile read both.
 */

let db: TestDb;
let warehouse: string;
let url: string;

/** Version 1 of the orders pipeline: the table `orders` without two columns. */
const ordersV1: PipelineDefinition = {
  ...ordersPipeline,
  transform: ordersPipeline.transform
    .replace('  event.customer_id AS customer_id,\n', '')
    .replace('  event.payment_method AS payment_method,\n', ''),
};
/** Version 2: every column, the table `orders_v2`. */
const ordersV2: PipelineDefinition = {
  ...ordersPipeline,
  destination: { ...ordersPipeline.destination, table: versionNames(ordersPipeline, 2).table },
};
const others = PIPELINES.filter((p) => p.stream !== 'orders');

async function relayTo(serverUrl: string) {
  await relayUntilDelivered(db, createHttpSink({ url: `${serverUrl}/ingest/{stream}`, timeoutMs: 5000 }));
}

const emitOrders = async (prefix: string, tenant: string, amounts: number[], customer: string | null) => {
  await db.outbox.emit(
    db.pool,
    ...amounts.map((total_amount, i) => ({
      stream: 'orders' as const,
      data: order(`${prefix}-${i}`, tenant, {
        total_amount,
        customer_id: customer,
        created_at: `2026-01-${String(10 + i).padStart(2, '0')}T10:00:00Z`,
      }),
    })),
  );
};

beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  warehouse = await tempWarehouse();
  const v1 = await startServer({ warehouse, pipelines: [ordersV1, ...others] });
  await emitOrders('old', 'shop:eu', [10, 20.5], 'c1');
  await emitOrders('old-b', 'acme', [7], 'c2');
  await relayTo(v1.url);
  await v1.stop();
  const v2 = await startServer({ warehouse, pipelines: [ordersV2, ...others] });
  await emitOrders('new', 'shop:eu', [100], 'c3');
  await emitOrders('new-b', 'acme', [1.25, 2.5], 'c2');
  await relayTo(v2.url);
  await v2.ingestor.flush();
  url = v2.url;
});
afterAll(async () => {
  await stopAll();
  await db?.close();
});

const env = () => ({ ...db.env, LAKEHOUSE_WAREHOUSE: warehouse });

describe('reports and reconcile read across stream versions', () => {
  it('report --sql reads orders and orders_v2 together, a column v1 lacks as NULL', async () => {
    const r = await runCli(['report', 'revenue-by-tenant', '--month', '2026-01', '--sql'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /NULL AS customer_id.*FROM lakehouse\.orders\n\s*UNION ALL SELECT .*customer_id.* FROM lakehouse\.orders_v2\) AS orders/,
    );
  });

  it('revenue-by-tenant counts the orders of both version tables', async () => {
    const r = await runCli(['report', 'revenue-by-tenant', '--month', '2026-01', '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      expect.objectContaining({ tenant_id: 'shop:eu', total_revenue: 130.5, order_count: 3 }),
      expect.objectContaining({ tenant_id: 'acme', total_revenue: 10.75, order_count: 3 }),
    ]);
  });

  it("monthly-trend reads customers only where the version has the column (v1's are NULL)", async () => {
    const r = await runCli(['report', 'monthly-trend', '--tenant', 'shop:eu', '--json'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { year: 2026, month: 1, revenue: 130.5, unique_customers: 1, order_count: 3, gross_revenue: 130.5 },
    ]);
  });

  it('reconcile through the local platform finds every delivered order in one of the version tables, exit 0', async () => {
    const r = await runCli(['reconcile', '--url', url, '--json', '--stream', 'orders'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.problems).toEqual([]);
    expect(out.tables).toEqual([
      { table: 'lakehouse.orders', delivered: 6, filtered: 0, lakeEvents: 6, lakeRows: 6 },
    ]);
  });
});
