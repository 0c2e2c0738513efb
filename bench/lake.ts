import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { request } from 'undici';
import { commitWithRetry } from '../src/lakehouse/commitSnapshot.js';
import { compact } from '../src/lakehouse/compact.js';
import { runQuery } from '../src/lakehouse/query.js';
import { createLakehouseServer } from '../src/lakehouse/server.js';
import { ensureTable } from '../src/lakehouse/tableWriter.js';
import { writeDataFiles } from '../src/lakehouse/writeDataFiles.js';
import { ordersPipeline } from '../src/pipelines/definitions.js';
import { type BenchConfig, type Figure, progress, ratioFigure, round } from './lib.js';

/** The seed plan's order queries, verbatim (test/lakehouse/support.ts holds the same text). */
const QUERIES: Record<string, string> = {
  revenueByTenant: `SELECT tenant_id, SUM(total_amount) AS total_revenue, COUNT(*) AS order_count,
  AVG(total_amount) AS avg_order_value FROM orders WHERE year = 2026 AND month = 2
GROUP BY tenant_id ORDER BY total_revenue DESC;`,
  monthlyTrend: `SELECT year, month, SUM(total_amount) AS revenue, COUNT(DISTINCT customer_id) AS unique_customers
FROM orders WHERE tenant_id = '0195134f-8258-7e85' GROUP BY year, month ORDER BY year, month;`,
  platformHealth: `SELECT COUNT(DISTINCT tenant_id) AS active_tenants, SUM(total_amount) AS platform_gmv,
  COUNT(*) AS total_orders FROM orders WHERE year = 2026 AND month = 2;`,
  churnRisk: `SELECT tenant_id, this_month.orders AS current_orders, last_month.orders AS previous_orders,
  (this_month.orders - last_month.orders) * 100.0 / last_month.orders AS change_pct
FROM (SELECT tenant_id, COUNT(*) AS orders FROM orders WHERE year = 2026 AND month = 2 GROUP BY tenant_id) this_month
JOIN (SELECT tenant_id, COUNT(*) AS orders FROM orders WHERE year = 2026 AND month = 1 GROUP BY tenant_id) last_month
USING (tenant_id) WHERE change_pct < -30 ORDER BY change_pct;`,
};

/** Deterministic order rows (200 tenants, Dec 2025 - Feb 2026), so both copies hold the same rows. */
const ROWS = (n: number) => `
SELECT 'e' || i AS event_id, 'order.recorded' AS event_type, 'o' || i AS order_id,
  CASE WHEN i % 200 = 0 THEN '0195134f-8258-7e85' ELSE 'tenant-' || (i % 200) END AS tenant_id,
  's' || (i % 10) AS site_id, 'c' || ((i * 31) % 50000) AS customer_id,
  CAST(((i * 37) % 10000) / 100.0 + 1 AS DECIMAL(18,2)) AS total_amount, 'EUR' AS currency, 'placed' AS status,
  'card' AS payment_method, CAST(i % 5 + 1 AS BIGINT) AS item_count, ts AS created_at,
  CAST(EXTRACT(YEAR FROM ts) AS INT) AS year, CAST(EXTRACT(MONTH FROM ts) AS INT) AS month
FROM (SELECT i, TIMESTAMPTZ '2025-12-01 00:00:00+00' + to_seconds((i * 7919) % (90 * 86400)) AS ts
      FROM range(${n}) t(i))`;

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
 * Figure 6: HTTP ingest rate into Iceberg, and the seed's queries over N order rows in the
 * lakehouse (`runQuery`: manifests, pruning, a fresh DuckDB per query) vs DuckDB over the
 * same rows in one plain Parquet file (also a fresh DuckDB per query). The N rows are written
 * into the Iceberg table with the lakehouse's own writer functions (`ensureTable`,
 * `writeDataFiles`, `commitWithRetry`: one append snapshot), not over HTTP.
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
    const plain = join(dir, 'plain.parquet');
    progress(`lake: writing ${rows.toLocaleString('en')} order rows to Iceberg and to one Parquet file`);
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      await conn.run("SET TimeZone = 'UTC'");
      await conn.run(`CREATE TABLE gen AS ${ROWS(rows)}`);
      const { paths, loaded } = await ensureTable(duck, warehouse, ordersPipeline);
      const md = loaded.metadata;
      const fields = md.schemas.find((s) => s['schema-id'] === md['current-schema-id'])!.fields;
      const spec = md['partition-specs'].find((s) => s['spec-id'] === md['default-spec-id'])!;
      const files = await writeDataFiles(conn, {
        relation: 'SELECT * FROM gen',
        dataDir: paths.dataDir,
        fields,
        spec,
      });
      await commitWithRetry(paths, async () => ({
        operation: 'append',
        keepManifests: [],
        entries: files.map((file) => ({ status: 1 as const, file })),
      }));
      await conn.run(`COPY gen TO '${plain.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd)`);
      progress(`lake: ${files.length} Iceberg data files written`);
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
    const plainView = `CREATE VIEW orders AS SELECT * FROM read_parquet('${plain.replaceAll("'", "''")}')`;
    const baselines: Record<string, number> = {};
    for (const [name, sql] of Object.entries(QUERIES)) {
      const lake = await median(() => runQuery(warehouse, sql));
      const base = await median(async () => {
        const d = await DuckDBInstance.create(':memory:');
        const c = await d.connect();
        try {
          await c.run("SET TimeZone = 'UTC'");
          await c.run(plainView);
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
        `${rows.toLocaleString('en')} rows; median of 3; baseline = DuckDB over one plain Parquet file`,
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
