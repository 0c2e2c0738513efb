import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { request } from 'undici';
import { commitWithRetry } from '../src/lakehouse/commitSnapshot.js';
import { compact } from '../src/lakehouse/compact.js';
import { runQuery } from '../src/lakehouse/query.js';
import { createLakehouseServer } from '../src/lakehouse/server.js';
import { ensureTable } from '../src/lakehouse/tableWriter.js';
import { writeDataFiles } from '../src/lakehouse/writeDataFiles.js';
import { ordersPipeline, productChangesPipeline } from '../src/pipelines/definitions.js';
import type { PipelineDefinition } from '../src/pipelines/types.js';
import { type ReportName, type ReportParams, reportSql } from '../src/reports/reports.js';
import { type BenchConfig, type Figure, progress, ratioFigure, round } from './lib.js';

/** The five named reports, as `lakehouse report` runs them (the tenant is the generated busiest one). */
const TENANT = '0195134f-8258-7e85';
const REPORTS: Record<string, { name: ReportName; params: ReportParams }> = {
  revenueByTenant: { name: 'revenue-by-tenant', params: { month: '2026-02' } },
  monthlyTrend: { name: 'monthly-trend', params: { tenant: TENANT } },
  priceChanges: { name: 'price-changes', params: { tenant: TENANT, year: 2026 } },
  platformHealth: { name: 'platform-health', params: { month: '2026-02' } },
  churnRisk: { name: 'churn-risk', params: { month: '2026-02' } },
};
/** The SQL text of each report (what `lakehouse report <name> --sql` prints). */
const QUERIES: Record<string, string> = Object.fromEntries(
  Object.entries(REPORTS).map(([key, r]) => [key, reportSql(r.name, r.params).sql]),
);

const tenantOf = (n: string) =>
  `CASE WHEN ${n} % 200 = 0 THEN '${TENANT}' ELSE 'tenant-' || (${n} % 200) END`;

/**
 * Deterministic order rows (200 tenants, Dec 2025 - Feb 2026), so both copies hold the same
 * rows: two rows per order (placed, then paid, cancelled or refunded), as the table holds one
 * row per order change.
 */
const ROWS = (n: number) => `
SELECT 'e' || i AS event_id, 'order.recorded' AS event_type, 'o' || j AS order_id,
  ${tenantOf('j')} AS tenant_id,
  's' || (j % 10) AS site_id, 'c' || ((j * 31) % 50000) AS customer_id,
  CAST(((j * 37) % 10000) / 100.0 + 1 AS DECIMAL(18,2)) AS total_amount, 'EUR' AS currency,
  CASE WHEN i % 2 = 0 THEN 'placed' WHEN j % 10 = 0 THEN 'cancelled' WHEN j % 17 = 0 THEN 'refunded' ELSE 'paid' END AS status,
  'card' AS payment_method, CAST(j % 5 + 1 AS BIGINT) AS item_count, ts AS created_at,
  CAST(EXTRACT(YEAR FROM ts) AS INT) AS year, CAST(EXTRACT(MONTH FROM ts) AS INT) AS month
FROM (SELECT i, j, TIMESTAMPTZ '2025-12-01 00:00:00+00' + to_seconds((j * 7919) % (90 * 86400)) AS ts
      FROM (SELECT i, i // 2 AS j FROM range(${n}) t(i)))`;

/** Deterministic product changes (one per 10 order rows), 500 products per tenant, 2025 - 2026. */
const PRODUCT_ROWS = (n: number) => `
SELECT 'pe' || i AS event_id, 'product.changed' AS event_type, 'p' || (i % 500) AS product_id,
  ${tenantOf('i')} AS tenant_id,
  CASE i % 3 WHEN 0 THEN 'price' WHEN 1 THEN 'stock' ELSE 'price_and_stock' END AS change_type,
  CAST(((i * 13) % 5000) / 100.0 + 1 AS DECIMAL(18,2)) AS old_price,
  CAST(((i * 17) % 5000) / 100.0 + 1 AS DECIMAL(18,2)) AS new_price,
  CAST(i % 90 AS BIGINT) AS old_stock, CAST(i % 70 AS BIGINT) AS new_stock, ts AS changed_at,
  CAST(EXTRACT(YEAR FROM ts) AS INT) AS year
FROM (SELECT i, TIMESTAMPTZ '2025-07-01 00:00:00+00' + to_seconds((i * 7919) % (365 * 86400)) AS ts
      FROM range(${n}) t(i))`;

/** Writes `relation` into the pipeline's Iceberg table (one append) and to one plain Parquet file. */
async function writeBoth(
  duck: DuckDBInstance,
  conn: DuckDBConnection,
  warehouse: string,
  def: PipelineDefinition,
  relation: string,
  plain: string,
): Promise<number> {
  const { paths, loaded } = await ensureTable(duck, warehouse, def);
  const md = loaded.metadata;
  const fields = md.schemas.find((s) => s['schema-id'] === md['current-schema-id'])!.fields;
  const spec = md['partition-specs'].find((s) => s['spec-id'] === md['default-spec-id'])!;
  const files = await writeDataFiles(conn, { relation, dataDir: paths.dataDir, fields, spec });
  await commitWithRetry(paths, async () => ({
    operation: 'append',
    keepManifests: [],
    entries: files.map((file) => ({ status: 1 as const, file })),
  }));
  await conn.run(`COPY (${relation}) TO '${plain.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd)`);
  return files.length;
}

async function ingestRate(warehouse: string, total: number): Promise<number> {
  const server = createLakehouseServer({ warehouse, pipelines: [ordersPipeline], port: 0 });
  await server.start();
  const url = `${server.url}/ingest/orders`;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    [0, 1, 2, 3].map(async () => {
      for (let b = next++; b * 1000 < total; b = next++) {
        const body = JSON.stringify(
          Array.from({ length: 1000 }, (_, k) => {
            const i = b * 1000 + k;
            return {
              event_id: `00000000-0000-7000-8000-${String(i).padStart(12, '0')}`,
              event_type: 'order.recorded',
              order_id: `o${i}`,
              tenant_id: `tenant-${i % 200}`,
              site_id: 's1',
              customer_id: `c${i % 997}`,
              total_amount: 10.5,
              currency: 'EUR',
              status: 'placed',
              payment_method: 'card',
              item_count: 1,
              created_at: '2026-02-01T10:00:00.000Z',
            };
          }),
        );
        const res = await request(url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json' },
        });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`ingest answered ${res.statusCode}: ${text}`);
      }
    }),
  );
  await server.stop(); // commits what is staged: part of the cost
  return total / ((performance.now() - t0) / 1000);
}

async function median(fn: () => Promise<unknown>, runs = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/**
 * Figure 6: HTTP ingest rate into Iceberg, and the five named reports (the SQL `lakehouse
 * report` runs) over N order rows and N/10 product changes in the lakehouse (`runQuery`:
 * manifests, pruning, a fresh DuckDB per query) vs the same SQL in DuckDB over the same rows
 * in one plain Parquet file per table (also a fresh DuckDB per query). The rows are written
 * into the Iceberg tables with the lakehouse's own writer functions (`ensureTable`,
 * `writeDataFiles`, `commitWithRetry`: one append snapshot each), not over HTTP.
 */
export async function benchLake(cfg: BenchConfig): Promise<Record<string, Figure>> {
  const dir = await mkdtemp(join(tmpdir(), 'lakehouse-bench-'));
  const figures: Record<string, Figure> = {};
  try {
    const ingestTotal = cfg.quick ? 50_000 : 200_000;
    progress(`lake: ingest ${ingestTotal.toLocaleString('en')} records over HTTP in batches of 1000`);
    const ingest = await ingestRate(join(dir, 'ingest'), ingestTotal);
    progress(`lake: ingest ${round(ingest, 0)} records/s`);
    figures.lakeIngest = {
      value: round(ingest, 0),
      unit: 'records/s',
      note: `${ingestTotal.toLocaleString('en')} records, 4 concurrent POSTs of 1000, including the final commit`,
    };

    const rows = cfg.quick ? 1_000_000 : 10_000_000;
    const warehouse = join(dir, 'warehouse');
    const plain = {
      orders: join(dir, 'orders.parquet'),
      product_changes: join(dir, 'product_changes.parquet'),
    };
    progress(
      `lake: writing ${rows.toLocaleString('en')} order rows and ${(rows / 10).toLocaleString('en')} product changes to Iceberg and to plain Parquet files`,
    );
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      await conn.run("SET TimeZone = 'UTC'");
      await conn.run(`CREATE TABLE gen AS ${ROWS(rows)}`);
      await conn.run(`CREATE TABLE gen_products AS ${PRODUCT_ROWS(rows / 10)}`);
      const n =
        (await writeBoth(duck, conn, warehouse, ordersPipeline, 'SELECT * FROM gen', plain.orders)) +
        (await writeBoth(
          duck,
          conn,
          warehouse,
          productChangesPipeline,
          'SELECT * FROM gen_products',
          plain.product_changes,
        ));
      progress(`lake: ${n} Iceberg data files written`);
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
    // The baseline reads the same SQL text: `lakehouse.<table>` as views over the plain files.
    const plainViews = [
      'CREATE SCHEMA lakehouse',
      ...Object.entries(plain).map(
        ([t, f]) => `CREATE VIEW lakehouse.${t} AS SELECT * FROM read_parquet('${f.replaceAll("'", "''")}')`,
      ),
    ];
    const baselines: Record<string, number> = {};
    for (const [name, sql] of Object.entries(QUERIES)) {
      const lake = await median(() => runQuery(warehouse, sql));
      const base = await median(async () => {
        const d = await DuckDBInstance.create(':memory:');
        const c = await d.connect();
        try {
          await c.run("SET TimeZone = 'UTC'");
          for (const v of plainViews) await c.run(v);
          await c.runAndReadAll(sql);
        } finally {
          c.closeSync();
          d.closeSync();
        }
      });
      baselines[name] = base;
      progress(`lake: ${name} ${round(lake, 0)} ms vs plain Parquet ${round(base, 0)} ms`);
      figures[`query_${name}`] = ratioFigure(
        lake,
        base,
        'ms',
        'ratio <= 1.5',
        (r) => r <= 1.5,
        `report ${REPORTS[name]!.name}; ${rows.toLocaleString('en')} order rows; median of 3; baseline = the same SQL over plain Parquet files`,
      );
    }
    // The same queries after `lakehouse compact` (small files of each partition rewritten).
    progress('lake: compacting the table (lakehouse compact)');
    const t0 = performance.now();
    const compacted = await compact({ warehouse });
    const removed = compacted.reduce((n, r) => n + r.filesRemoved, 0);
    const added = compacted.reduce((n, r) => n + r.filesAdded, 0);
    progress(
      `lake: compacted ${removed} files into ${added} in ${round((performance.now() - t0) / 1000, 1)}s`,
    );
    for (const [name, sql] of Object.entries(QUERIES)) {
      const lake = await median(() => runQuery(warehouse, sql));
      progress(`lake: ${name} after compaction ${round(lake, 0)} ms`);
      figures[`query_${name}_compacted`] = ratioFigure(
        lake,
        baselines[name]!,
        'ms',
        'ratio <= 1.5',
        (r) => r <= 1.5,
        `after compact: ${removed} files rewritten into ${added}; same baseline`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}
