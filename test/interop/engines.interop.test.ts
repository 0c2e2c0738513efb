import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../support/db.js';
import { roundRecords, STREAMS } from './dataset.js';
import {
  ARROW_OF_ICEBERG,
  aggregateRows,
  canonical,
  lakehouse,
  ourQuery,
  type QueryAnswer,
  type Reader,
  SPARK_OF_ICEBERG,
  startReader,
  startServe,
} from './support.js';

/**
 * The plan's five reports in SQL every engine here runs unchanged (no SELECT alias in WHERE,
 * deterministic ORDER BY), over the unqualified table names each engine resolves in the
 * `lakehouse` namespace.
 */
const REPORTS: Record<string, string> = {
  revenueByTenant: `SELECT tenant_id, SUM(total_amount) AS total_revenue, COUNT(*) AS order_count,
  AVG(total_amount) AS avg_order_value
FROM orders WHERE year = 2026 AND month = 2
GROUP BY tenant_id ORDER BY total_revenue DESC, tenant_id`,
  monthlyTrend: `SELECT year, month, SUM(total_amount) AS revenue, COUNT(DISTINCT customer_id) AS unique_customers
FROM orders WHERE tenant_id = 'shop:eu'
GROUP BY year, month ORDER BY year, month`,
  priceChanges: `SELECT product_id, MIN(old_price) AS lowest_price, MAX(new_price) AS highest_price,
  COUNT(*) AS price_changes
FROM product_changes WHERE tenant_id = '0195134f-8258-7e85' AND year = 2026
GROUP BY product_id HAVING COUNT(*) > 5 ORDER BY product_id`,
  platformHealth: `SELECT COUNT(DISTINCT tenant_id) AS active_tenants, SUM(total_amount) AS platform_gmv,
  COUNT(*) AS total_orders
FROM orders WHERE year = 2026 AND month = 2`,
  churnRisk: `WITH this_month AS (
  SELECT tenant_id, COUNT(*) AS orders FROM orders WHERE year = 2026 AND month = 2 GROUP BY tenant_id
), last_month AS (
  SELECT tenant_id, COUNT(*) AS orders FROM orders WHERE year = 2026 AND month = 1 GROUP BY tenant_id
)
SELECT t.tenant_id AS tenant_id, t.orders AS current_orders, l.orders AS previous_orders,
  (t.orders - l.orders) * 100.0 / l.orders AS change_pct
FROM this_month t JOIN last_month l ON t.tenant_id = l.tenant_id
WHERE (t.orders - l.orders) * 100.0 / l.orders < -30
ORDER BY change_pct, tenant_id`,
};

interface IcebergField {
  id: number;
  name: string;
  type: string;
}
interface TableMetadata {
  'current-snapshot-id': number;
  'current-schema-id': number;
  schemas: { 'schema-id': number; fields: IcebergField[] }[];
  'partition-specs': {
    'spec-id': number;
    fields: { name: string; 'source-id': number; 'field-id': number }[];
  }[];
  'default-spec-id': number;
}
interface Scan {
  schema: [string, string][];
  rows: Record<string, unknown>[];
  files?: string[];
}

describe('Spark, PyIceberg and DuckDB read the lake through its REST catalog', () => {
  let db: TestDb;
  let serve: Awaited<ReturnType<typeof startServe>>;
  let warehouse: string;
  let env: NodeJS.ProcessEnv;
  let catalog: string;
  let pyiceberg: Reader;
  let spark: Reader;
  let duckdb: Reader;
  const expected: Record<string, number> = {};
  /** The first round's snapshot of each table, and our rows at that snapshot. */
  const firstRound: Record<string, { snapshot: number; rows: Record<string, unknown>[] }> = {};

  const sql = async (query: string) => {
    const res = await fetch(`${serve.url}/sql`, { method: 'POST', body: JSON.stringify({ query }) });
    return ((await res.json()) as { result: { rows: Record<string, unknown>[] } }).result.rows;
  };
  const loadTable = async (table: string) => {
    const res = await fetch(`${catalog}/v1/namespaces/lakehouse/tables/${table}`);
    expect(res.status).toBe(200);
    return (await res.json()) as { 'metadata-location': string; metadata: TableMetadata };
  };
  const fields = (md: TableMetadata) =>
    md.schemas.find((s) => s['schema-id'] === md['current-schema-id'])!.fields;
  const decimalScales = (md: TableMetadata) =>
    Object.fromEntries(
      fields(md).flatMap((f) => {
        const m = /^decimal\(\d+, *(\d+)\)$/.exec(f.type);
        return m ? [[f.name, Number(m[1])]] : [];
      }),
    );

  /** Emits records through the outbox, relays them to `lakehouse serve`, waits until the lake has them. */
  async function deliver(records: Record<string, Record<string, unknown>[]>) {
    for (const [stream, recs] of Object.entries(records)) {
      const input = `${recs.map((r) => JSON.stringify(r)).join('\n')}\n`;
      const out = JSON.parse(await lakehouse(['emit', stream, '--no-wake', '--json'], env, input));
      expect(out).toMatchObject({ written: recs.length, rejected: 0 });
      expected[stream] = (expected[stream] ?? 0) + recs.length;
    }
    await lakehouse(['relay', '--until-idle'], env);
    for (const stream of Object.keys(records)) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const [row] = await sql(`SELECT COUNT(*) AS n FROM ${stream}`);
        if (row?.n === expected[stream]) break;
        if (Date.now() > deadline) throw new Error(`${stream}: ${row?.n} rows, expected ${expected[stream]}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  beforeAll(async () => {
    db = await createTestDb(import.meta.filename);
    // A space and a non-ASCII letter in the warehouse path: locations must be written as is.
    warehouse = join(await mkdtemp(join(tmpdir(), 'lakehouse interop é-')), 'warehouse');
    serve = await startServe(warehouse, { ...db.env, LAKEHOUSE_LOG_LEVEL: 'error' });
    env = { ...db.env, LAKEHOUSE_LOG_LEVEL: 'error', LAKEHOUSE_SINK_URL: `${serve.url}/ingest/{stream}` };
    catalog = `${serve.url}/catalog`;
    // The JVM starts while the lake fills.
    const sparkStarting = startReader('spark', catalog);
    sparkStarting.catch(() => {});

    // Round one in two deliveries, alternate records each (so partitions get two files, for
    // compact), then round two.
    const first = roundRecords(0);
    for (const parity of [0, 1]) {
      await deliver(
        Object.fromEntries(Object.entries(first).map(([s, r]) => [s, r.filter((_, i) => i % 2 === parity)])),
      );
    }
    for (const stream of STREAMS) {
      const snapshot = (await loadTable(stream)).metadata['current-snapshot-id'];
      const rows = (await ourQuery(warehouse, `SELECT * FROM ${stream}`, env)).rows;
      firstRound[stream] = { snapshot, rows };
    }
    await deliver(roundRecords(1));

    pyiceberg = await startReader('pyiceberg', catalog);
    duckdb = await startReader('duckdb', catalog);
    await duckdb.call('attach');
    spark = await sparkStarting;
    await spark.call('sql', { query: 'USE lakehouse' });
  }, 600_000);

  afterAll(async () => {
    await Promise.all([pyiceberg?.close(), duckdb?.close(), spark?.close()]);
    await serve?.stop();
    await db?.close();
  });

  const phases = [
    { name: 'after appends', run: async () => {} },
    {
      name: 'after compact',
      run: async () => {
        const out = JSON.parse(await lakehouse(['compact', '--json', '--warehouse', warehouse], env)) as {
          tables: { table: string; filesRemoved: number; filesAdded: number }[];
        };
        // Every table had partitions with two files from the first round's two deliveries.
        expect(
          out.tables
            .filter((t) => t.filesRemoved > t.filesAdded)
            .map((t) => t.table)
            .sort(),
        ).toEqual(STREAMS.map((s) => `lakehouse.${s}`).sort());
      },
    },
    {
      name: 'after expire-snapshots',
      run: async () => {
        const out = JSON.parse(
          await lakehouse(
            [
              'expire-snapshots',
              '--older-than',
              '0s',
              '--retain-last',
              '1',
              '--json',
              '--warehouse',
              warehouse,
            ],
            env,
          ),
        ) as { tables: { table: string; snapshotsExpired: number; filesDeleted: number }[] };
        for (const t of out.tables) expect(t.filesDeleted, t.table).toBeGreaterThan(0);
      },
    },
  ];

  for (const phase of phases) {
    describe(phase.name, () => {
      const ours: Record<string, QueryAnswer> = {};
      const reports: Record<string, QueryAnswer> = {};
      const tables: Record<string, Awaited<ReturnType<typeof loadTable>>> = {};
      beforeAll(async () => {
        await phase.run();
        for (const stream of STREAMS) {
          ours[stream] = await ourQuery(warehouse, `SELECT * FROM ${stream}`, env);
          expect(ours[stream].rows).toHaveLength(expected[stream]!);
          tables[stream] = await loadTable(stream);
        }
        for (const [name, query] of Object.entries(REPORTS)) {
          reports[name] = await ourQuery(warehouse, query, env);
          expect(reports[name].rows.length, name).toBeGreaterThan(0);
        }
      }, 300_000);

      it('PyIceberg lists the namespace and tables and scans each table to exactly our rows, types and values', async () => {
        expect(await pyiceberg.call('catalog_listing')).toEqual({
          namespaces: [['lakehouse']],
          tables: { lakehouse: [...STREAMS].sort() },
        });
        for (const stream of STREAMS) {
          const md = tables[stream]!.metadata;
          const scan = await pyiceberg.call<Scan>('scan', { table: `lakehouse.${stream}` });
          expect(scan.schema, stream).toEqual(fields(md).map((f) => [f.name, ARROW_OF_ICEBERG[f.type]]));
          expect(canonical(scan.rows, decimalScales(md)), stream).toEqual(
            canonical(ours[stream]!.rows, decimalScales(md)),
          );
        }
        // The types the issue names, spelled out.
        const orders = (await pyiceberg.call<Scan>('scan', { table: 'lakehouse.orders' })).schema;
        expect(Object.fromEntries(orders)).toMatchObject({
          total_amount: 'decimal128(18, 4)',
          created_at: 'timestamp[us, tz=UTC]',
        });
        const activity = (await pyiceberg.call<Scan>('scan', { table: 'lakehouse.user_activity' })).schema;
        expect(Object.fromEntries(activity)).toMatchObject({ date: 'date32[day]' });
      });

      it("PyIceberg's partition-filtered scan reads only that partition's files and gives our rows", async () => {
        const filter = "tenant_id == 'shop:eu' and year == 2026 and month == 2";
        const scan = await pyiceberg.call<Scan>('scan', { table: 'lakehouse.orders', row_filter: filter });
        const mine = await ourQuery(
          warehouse,
          "SELECT * FROM orders WHERE tenant_id = 'shop:eu' AND year = 2026 AND month = 2",
          env,
        );
        const scales = decimalScales(tables.orders!.metadata);
        expect(scan.rows.length).toBeGreaterThan(0);
        expect(canonical(scan.rows, scales)).toEqual(canonical(mine.rows, scales));
        expect(scan.files!.length).toBeGreaterThan(0);
        for (const f of scan.files!) expect(f).toContain('/data/tenant_id=shop%3Aeu/year=2026/month=2/');

        const day = await pyiceberg.call<Scan>('scan', {
          table: 'lakehouse.user_activity',
          row_filter: "date == '2026-02-03'",
        });
        const mineDay = await ourQuery(
          warehouse,
          "SELECT * FROM user_activity WHERE date = DATE '2026-02-03'",
          env,
        );
        expect(day.rows.length).toBeGreaterThan(0);
        expect(canonical(day.rows, {})).toEqual(canonical(mineDay.rows, {}));
        for (const f of day.files!) expect(f).toContain('/date=2026-02-03/');
      });

      if (phase.name !== 'after expire-snapshots') {
        it("PyIceberg's scan of the first round's snapshot (time travel) gives that round's rows", async () => {
          for (const stream of STREAMS) {
            const { snapshot, rows } = firstRound[stream]!;
            expect(snapshot).not.toBe(tables[stream]!.metadata['current-snapshot-id']);
            const scan = await pyiceberg.call<Scan>('scan', {
              table: `lakehouse.${stream}`,
              snapshot_id: snapshot,
            });
            const scales = decimalScales(tables[stream]!.metadata);
            expect(canonical(scan.rows, scales), stream).toEqual(canonical(rows, scales));
          }
        });
      } else {
        it('PyIceberg sees only the current snapshot once older ones expired', async () => {
          for (const stream of STREAMS) {
            const info = await pyiceberg.call<{ snapshots: number[]; current: number }>('table_info', {
              table: `lakehouse.${stream}`,
            });
            expect(info.snapshots, stream).toEqual([tables[stream]!.metadata['current-snapshot-id']]);
            expect(info.current, stream).toBe(tables[stream]!.metadata['current-snapshot-id']);
          }
        });
      }

      it('Spark (REST catalog `lake`) reads every table to our rows and answers the reports as we do', async () => {
        for (const stream of STREAMS) {
          const md = tables[stream]!.metadata;
          const count = await spark.call<Scan>('sql', {
            query: `SELECT COUNT(*) AS n FROM lake.lakehouse.${stream}`,
          });
          expect(count.rows, stream).toEqual([{ n: expected[stream] }]);
          const all = await spark.call<Scan>('sql', { query: `SELECT * FROM ${stream}` });
          expect(all.schema, stream).toEqual(fields(md).map((f) => [f.name, SPARK_OF_ICEBERG[f.type]]));
          expect(canonical(all.rows, decimalScales(md)), stream).toEqual(
            canonical(ours[stream]!.rows, decimalScales(md)),
          );
        }
        for (const [name, query] of Object.entries(REPORTS)) {
          const theirs = await spark.call<Scan>('sql', { query });
          expect(aggregateRows(theirs.rows), name).toEqual(aggregateRows(reports[name]!.rows));
        }
      });

      it("Spark's DESCRIBE TABLE EXTENDED shows each table's partition spec", async () => {
        for (const stream of STREAMS) {
          const md = tables[stream]!.metadata;
          const spec = md['partition-specs'].find((s) => s['spec-id'] === md['default-spec-id'])!;
          const rows = (
            await spark.call<Scan>('sql', { query: `DESCRIBE TABLE EXTENDED lake.lakehouse.${stream}` })
          ).rows as { col_name: string; data_type: string }[];
          const start = rows.findIndex((r) => r.col_name === '# Partition Information');
          expect(start, stream).toBeGreaterThan(0);
          const partitionColumns = rows
            .slice(start + 2)
            .slice(0, spec.fields.length + 1)
            .map((r) => r.col_name);
          expect(partitionColumns, stream).toEqual([...spec.fields.map((f) => f.name), '']);
        }
      });

      it("DuckDB's iceberg_scan of each table's metadata file gives our rows", async () => {
        for (const stream of STREAMS) {
          const { 'metadata-location': location, metadata: md } = tables[stream]!;
          const scan = await duckdb.call<Scan>('sql', {
            query: `SELECT * FROM iceberg_scan('${location.replaceAll("'", "''")}')`,
          });
          expect(scan.schema, stream).toEqual(fields(md).map((f) => [f.name, ARROW_OF_ICEBERG[f.type]]));
          expect(canonical(scan.rows, decimalScales(md)), stream).toEqual(
            canonical(ours[stream]!.rows, decimalScales(md)),
          );
        }
      });

      it('DuckDB ATTACHed to the REST catalog reads every table to our rows and answers the reports as we do', async () => {
        await duckdb.call('sql', { query: 'USE lake.lakehouse' });
        for (const stream of STREAMS) {
          const md = tables[stream]!.metadata;
          const scan = await duckdb.call<Scan>('sql', { query: `SELECT * FROM lake.lakehouse.${stream}` });
          expect(canonical(scan.rows, decimalScales(md)), stream).toEqual(
            canonical(ours[stream]!.rows, decimalScales(md)),
          );
        }
        for (const [name, query] of Object.entries(REPORTS)) {
          const theirs = await duckdb.call<Scan>('sql', { query });
          expect(aggregateRows(theirs.rows), name).toEqual(aggregateRows(reports[name]!.rows));
        }
      });
    });
  }
});
