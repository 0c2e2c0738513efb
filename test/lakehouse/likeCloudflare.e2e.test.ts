import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { runQuery } from '../../src/lakehouse/query.js';
import { postJson, startServer, stopAll } from './support.js';

afterEach(async () => {
  await stopAll();
});

const orderRecord = (extra: Record<string, unknown> = {}) => ({
  event_id: randomUUID(),
  event_type: 'order.placed',
  order_id: `o-${randomUUID().slice(0, 8)}`,
  tenant_id: 't1',
  site_id: 's1',
  customer_id: null,
  total_amount: 10,
  currency: 'EUR',
  status: 'placed',
  payment_method: null,
  item_count: 1,
  created_at: '2026-02-01T10:00:00Z',
  ...extra,
});

const stats = async (url: string) =>
  (await (await fetch(`${url}/stats`)).json()) as { tables: Record<string, Record<string, unknown>> };

const count = async (warehouse: string) =>
  (await runQuery(warehouse, 'SELECT COUNT(*) AS n FROM lakehouse.orders')).rows[0]!.n;

describe('serve --like-cloudflare', () => {
  it('answers 200 to records failing the stream schema, drops them and counts them as user errors', async () => {
    const s = await startServer({ likeCloudflare: true });
    const { total_amount: _, ...missing } = orderRecord();
    const body = [
      orderRecord(),
      missing,
      orderRecord({ status: null }),
      orderRecord({ total_amount: 'ten' }),
      orderRecord({ coupon: 'WELCOME' }), // unknown field: stripped, the row lands
    ];
    const r = await postJson(`${s.url}/ingest/orders`, body);
    expect(r).toEqual({ status: 200, body: { committed: 5 } });
    await s.ingestor.flush();
    expect(await count(s.warehouse)).toBe(2);
    expect((await stats(s.url)).tables.orders).toMatchObject({
      mode: 'cloudflare',
      received: 5,
      userErrors: 3,
      userErrorsByReason: { missing_field: 1, null_value: 1, type_mismatch: 1 },
    });
  });

  it('keeps a resent record as a second row (at least once, no dedupe by event_id)', async () => {
    const s = await startServer({ likeCloudflare: true });
    const rec = orderRecord();
    for (let i = 0; i < 3; i++) expect((await postJson(`${s.url}/ingest/orders`, [rec])).status).toBe(200);
    await s.ingestor.flush();
    expect(await count(s.warehouse)).toBe(3);
  });

  it('tells the truth in the default mode: the same request is a 400 naming each record and field', async () => {
    const s = await startServer();
    const r = await postJson(`${s.url}/ingest/orders`, [orderRecord(), orderRecord({ coupon: 'X' })]);
    expect(r.status).toBe(400);
    expect(r.body.errors).toEqual([{ index: 1, field: 'coupon', message: 'is not a field of orders' }]);
  });
});

describe('visible filtering', () => {
  it("counts records the transform's WHERE dropped, per table, and names the filter", async () => {
    const s = await startServer();
    const r = await postJson(`${s.url}/ingest/orders`, [
      orderRecord(),
      orderRecord({ total_amount: 0 }),
      orderRecord({ total_amount: 0 }),
    ]);
    expect(r.status).toBe(200);
    await s.ingestor.flush();
    expect(await count(s.warehouse)).toBe(1);
    const t = (await stats(s.url)).tables;
    expect(t.orders).toMatchObject({ filteredByTransform: 2, transformFilter: 'event.total_amount > 0' });
    expect(t.product_changes).toMatchObject({ filteredByTransform: 0, transformFilter: null });
  });
});
