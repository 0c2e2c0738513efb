import { IcebergRestCatalog } from 'iceberg-js';
import { icebergRead } from 'icebird';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tablePaths } from '../../src/lakehouse/paths.js';
import { runQuery } from '../../src/lakehouse/query.js';
import { createHttpSink } from '../../src/pipelines/httpSink.js';
import {
  fileFetch,
  PLAN_QUERIES,
  planDataset,
  startServer,
  stopAll,
  TENANT_A,
  TENANT_B,
  TENANT_C,
} from './support.js';

describe('round trip: relay HTTP sink → ingest → Iceberg → SQL', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  const data = planDataset();
  const realFetch = globalThis.fetch;

  beforeAll(async () => {
    server = await startServer({ token: 'secret' });
    // The relay's own HTTP client, unchanged, speaks to the local ingest.
    const sink = createHttpSink({ url: `${server.url}/ingest/{stream}`, token: 'secret' });
    try {
      for (const [stream, records] of Object.entries(data)) {
        // Two requests per stream, so tables get more than one data file per partition at times.
        const half = Math.ceil(records.length / 2);
        for (const part of [records.slice(0, half), records.slice(half)]) {
          if (part.length === 0) continue;
          const out = await sink.send({ stream, records: part.map((r) => JSON.stringify(r)) });
          expect(out).toEqual({ kind: 'ok', committed: part.length });
        }
        await server.ingestor.flush();
      }
    } finally {
      await sink.close?.();
    }
  });
  afterEach(() => {
    globalThis.fetch = realFetch;
  });
  afterAll(async () => {
    expect(await stopAll()).toBe(1);
  });

  const sql = async (query: string) => {
    const res = await fetch(`${server.url}/sql`, { method: 'POST', body: JSON.stringify({ query }) });
    const body = (await res.json()) as {
      success: boolean;
      result: { rows: Record<string, unknown>[]; metrics: Record<string, number> };
    };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.success).toBe(true);
    return body.result;
  };

  it('answers revenue by tenant for 2026-02, reading only February files', async () => {
    const r = await sql(PLAN_QUERIES.revenueByTenant);
    const m = r.metrics as { files_scanned: number; files_total: number };
    expect(r.rows.map((x) => [x.tenant_id, x.total_revenue, x.order_count])).toEqual([
      [TENANT_B, 99.99, 1],
      [TENANT_A, 60.6234, 3],
      [TENANT_C, 12, 2],
    ]);
    expect(r.rows[1]!.avg_order_value).toBeCloseTo(20.2078, 10);
    expect(r.rows[2]!.avg_order_value).toBeCloseTo(6, 10);
    // Partition pruning from manifest values: orders has 6 partitions (A: 3 months, B: 2, C: 1), Feb is 3 of them.
    expect(m.files_scanned).toBeLessThan(m.files_total);
    expect(m.files_scanned).toBeGreaterThanOrEqual(3);
  });

  it('answers the monthly revenue trend of one tenant', async () => {
    const r = await sql(PLAN_QUERIES.monthlyTrend);
    expect(r.rows).toEqual([
      { year: 2025, month: 12, revenue: 12, unique_customers: 1 },
      { year: 2026, month: 1, revenue: 150.25, unique_customers: 2 },
      { year: 2026, month: 2, revenue: 60.6234, unique_customers: 2 },
    ]);
  });

  it('answers the product price change analysis', async () => {
    const r = await sql(PLAN_QUERIES.priceChanges);
    expect(r.rows).toEqual([{ product_id: 'p1', lowest_price: 9.5, highest_price: 14.25, price_changes: 6 }]);
  });

  it('answers platform health', async () => {
    const r = await sql(PLAN_QUERIES.platformHealth);
    expect(r.rows).toEqual([{ active_tenants: 3, platform_gmv: 172.6134, total_orders: 6 }]);
  });

  it('answers churn risk (alias in WHERE, as the plan writes it)', async () => {
    const r = await sql(PLAN_QUERIES.churnRisk);
    expect(r.rows).toEqual([{ tenant_id: TENANT_B, current_orders: 1, previous_orders: 4, change_pct: -75 }]);
    expect(r.metrics.files_scanned).toBe(5); // Jan and Feb files only, not A's December file
  });

  it('keeps timestamps as instants and derives partitions in UTC', async () => {
    const r = await runQuery(
      server.warehouse,
      `SELECT created_at, day(created_at) AS d FROM orders WHERE tenant_id = '${TENANT_B}' AND month = 2`,
    );
    expect(r.rows).toEqual([{ created_at: '2026-02-05T07:00:00.000Z', d: 5 }]);
  });

  it('icebird reads every table and agrees with DuckDB row for row', async () => {
    globalThis.fetch = fileFetch(realFetch);
    for (const [table, records] of Object.entries(data)) {
      const location = tablePaths(server.warehouse, 'lakehouse', table).location;
      const rows = await icebergRead({ tableUrl: location });
      expect(rows.length, table).toBe(records.length);
      const duck = await runQuery(server.warehouse, `SELECT * FROM ${table} ORDER BY event_id`);
      const norm = (v: unknown) =>
        v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v === undefined ? null : v;
      const icebird = rows
        .map((row) => Object.fromEntries(Object.keys(duck.rows[0]!).map((k) => [k, norm(row[k])])))
        .sort((a, b) => String(a.event_id).localeCompare(String(b.event_id)));
      const duckRows = duck.rows.map((row) =>
        Object.fromEntries(
          Object.entries(row).map(([k, v]) => [
            k,
            typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? new Date(v).toISOString() : v,
          ]),
        ),
      );
      for (let i = 0; i < duckRows.length; i++) {
        for (const [k, v] of Object.entries(duckRows[i]!)) {
          const got = icebird[i]![k];
          // DuckDB answers dates as YYYY-MM-DD; icebird as a Date at midnight UTC.
          const g =
            typeof got === 'string' && typeof v === 'string' && v.length === 10 ? got.slice(0, 10) : got;
          // icebird turns Parquet decimals into binary floats (50.25 → 50.24999999999999).
          if (typeof g === 'number' && typeof v === 'number') expect(g, `${table}.${k}`).toBeCloseTo(v, 8);
          else expect(String(g), `${table}.${k}`).toBe(String(v));
        }
      }
    }
  });

  it('iceberg-js lists and loads the tables through /catalog', async () => {
    const catalog = new IcebergRestCatalog({ baseUrl: `${server.url}/catalog` });
    expect(await catalog.listNamespaces()).toEqual([{ namespace: ['lakehouse'] }]);
    const tables = await catalog.listTables({ namespace: ['lakehouse'] });
    expect(tables.map((t) => t.name).sort()).toEqual(Object.keys(data).sort());
    const md = await catalog.loadTable({ namespace: ['lakehouse'], name: 'orders' });
    expect(md['format-version']).toBe(2);
    expect(md['current-snapshot-id']).toBeGreaterThan(0);
    expect(md['partition-specs'][0]!.fields.map((f) => f.name)).toEqual(['tenant_id', 'year', 'month']);
    expect(await catalog.tableExists({ namespace: ['lakehouse'], name: 'orders' })).toBe(true);
    expect(await catalog.tableExists({ namespace: ['lakehouse'], name: 'nope' })).toBe(false);
    expect(await catalog.namespaceExists({ namespace: ['lakehouse'] })).toBe(true);
    await expect(catalog.loadTable({ namespace: ['lakehouse'], name: 'nope' })).rejects.toThrow(
      /does not exist/,
    );
    // Its answer can be handed to icebird, as a BI client would.
    globalThis.fetch = fileFetch(realFetch);
    const rows = await icebergRead({ tableUrl: md.location, metadata: md as never });
    expect(rows.length).toBe(data.orders.length);
  });
});
