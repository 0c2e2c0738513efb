import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveDataFiles } from '../../src/lakehouse/manifests.js';
import { fromFileUri, tablePaths } from '../../src/lakehouse/paths.js';
import { QueryError, runQuery } from '../../src/lakehouse/query.js';
import { loadTable } from '../../src/lakehouse/tableMetadata.js';
import { runCli } from '../support/cli.js';
import { planDataset, postJson, startServer, stopAll, TENANT_A, TENANT_B } from './support.js';

describe('query containment', () => {
  let warehouse: string;
  let otherFile: string;

  beforeAll(async () => {
    const s = await startServer();
    warehouse = s.warehouse;
    for (const [stream, records] of Object.entries(planDataset())) {
      expect((await postJson(`${s.url}/ingest/${stream}`, records)).status).toBe(200);
    }
    await s.ingestor.flush();
    const md = (await loadTable(tablePaths(warehouse, 'lakehouse', 'orders')))!.metadata;
    otherFile = fromFileUri(
      (await liveDataFiles(md)).files.find((f) => f.partition.tenant_id === TENANT_B)!.path,
    );
  });
  afterAll(async () => {
    await stopAll();
  });

  const tenantRows = async (sql: string) => {
    const r = await runQuery(warehouse, sql, { tenant: TENANT_A });
    return r.rows;
  };

  it('shows only the tenant whatever the SQL says', async () => {
    const attempts = [
      `SELECT DISTINCT tenant_id FROM orders`,
      `SELECT DISTINCT tenant_id FROM orders WHERE tenant_id = '${TENANT_B}' OR 1 = 1`,
      `SELECT tenant_id FROM orders UNION ALL SELECT tenant_id FROM product_changes`,
      `SELECT tenant_id FROM (SELECT * FROM orders WHERE tenant_id <> '${TENANT_A}') x`,
      `SELECT DISTINCT tenant_id FROM orders /* WHERE tenant_id = '${TENANT_A}' */ -- comment`,
      `SELECT DISTINCT "tenant_id" FROM "ORDERS"`,
      `SELECT DISTINCT tenant_id FROM temp.main.orders`,
      `WITH orders AS (SELECT * FROM orders) SELECT DISTINCT tenant_id FROM orders`,
      `SELECT DISTINCT tenant_id FROM user_activity UNION SELECT tenant_id FROM api_calls`,
      `SELECT (SELECT MAX(tenant_id) FROM orders) AS tenant_id`,
    ];
    for (const sql of attempts) {
      const rows = await tenantRows(sql);
      for (const r of rows) expect([TENANT_A, null], sql).toContain(r.tenant_id);
    }
    expect(await tenantRows(`SELECT COUNT(*) AS n FROM orders`)).toEqual([{ n: 6 }]);
    expect(await tenantRows(`SELECT COUNT(*) AS n FROM api_calls`)).toEqual([{ n: 0 }]);
  });

  it('rejects file-reading table functions, even on warehouse files', async () => {
    for (const sql of [
      `SELECT * FROM read_parquet('${otherFile}')`,
      `SELECT * FROM orders UNION ALL SELECT * FROM read_parquet('${otherFile}')`,
      `SELECT * FROM read_csv('/etc/passwd')`,
      `SELECT * FROM read_text('/etc/passwd')`,
      `SELECT * FROM glob('/*')`,
      `SELECT * FROM read_json_auto('/etc/hosts')`,
      `SELECT * FROM '${otherFile}'`,
    ]) {
      await expect(runQuery(warehouse, sql, { tenant: TENANT_A }), sql).rejects.toBeInstanceOf(QueryError);
      await expect(runQuery(warehouse, sql), sql).rejects.toBeInstanceOf(QueryError);
    }
  });

  it('rejects DDL, DML, COPY, ATTACH, INSTALL/LOAD, PRAGMA and SET', async () => {
    for (const sql of [
      'CREATE TABLE x AS SELECT 1',
      'DROP VIEW orders',
      "INSERT INTO orders (tenant_id) VALUES ('x')",
      'DELETE FROM orders',
      "COPY orders TO '/tmp/out.csv'",
      "ATTACH '/tmp/x.db' AS x",
      'INSTALL iceberg',
      'LOAD iceberg',
      'PRAGMA version',
      'SET enable_external_access = true',
      'SELECT 1; DROP VIEW orders',
      "CREATE OR REPLACE TEMP VIEW orders AS SELECT * FROM read_parquet('x')",
    ]) {
      await expect(runQuery(warehouse, sql), sql).rejects.toThrow(/read-only|only|not allowed|SELECT/i);
    }
  });

  it('prunes files by partition values and reports it in the CLI (--json, --explain, --tenant)', async () => {
    const env = { ...process.env, LAKEHOUSE_WAREHOUSE: warehouse };
    const all = await runCli(['query', '--json', 'SELECT COUNT(*) AS n FROM orders'], { env });
    const pruned = await runCli(
      ['query', '--json', '--explain', 'SELECT COUNT(*) AS n FROM orders WHERE year = 2026 AND month IN (2)'],
      { env },
    );
    const a = JSON.parse(all.stdout).result;
    const p = JSON.parse(pruned.stdout).result;
    expect(a.rows).toEqual([{ n: 13 }]);
    expect(a.metrics.files_scanned).toBe(a.metrics.files_total);
    expect(p.rows).toEqual([{ n: 6 }]);
    expect(p.metrics.files_scanned).toBe(3);
    expect(p.metrics.files_total).toBe(a.metrics.files_total);
    expect(pruned.stderr).toMatch(/3 of \d+ files/);
    const t = await runCli(
      ['query', '--csv', '--tenant', TENANT_A, `SELECT DISTINCT tenant_id FROM orders`],
      { env },
    );
    expect(t.stdout).toBe(`tenant_id\n${TENANT_A}\n`);
    const bad = await runCli(['query', 'DROP VIEW orders'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/rejected/);
  });
});
