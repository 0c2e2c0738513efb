import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { type StandIn, standInEnv, startCloudflareStandIn } from './support/cloudflareStandIn.js';

/** A Basin SQL result in the documented shape. */
const RESULT = {
  schema: [
    { name: 'tenant_id', type: 'Utf8' },
    { name: 'revenue', type: 'Decimal128(38, 4)' },
  ],
  rows: [
    { tenant_id: 't1', revenue: 120.5 },
    { tenant_id: 't2', revenue: 7 },
  ],
  metrics: { bytes_scanned: 2048, files_scanned: 3 },
};

let cf: StandIn;
let seen: { warehouse?: string; query?: string }[];
beforeEach(async () => {
  cf = await startCloudflareStandIn();
  seen = [];
  // The documented answer shape; tables must be qualified (namespace.table).
  cf.sql = (body) => {
    seen.push(body);
    if (!body.warehouse || !body.query)
      return [
        400,
        { success: false, errors: [{ code: 40004, message: 'warehouse and query are required' }] },
      ];
    if (/\bFROM\s+\w+(?![\w.])/i.test(body.query)) {
      return [
        400,
        {
          success: false,
          errors: [{ code: 40004, message: 'table names must be qualified (namespace.table)' }],
        },
      ];
    }
    return [
      200,
      {
        success: true,
        errors: [],
        result: RESULT,
      },
    ];
  };
});
afterEach(() => cf.close());

const SQL = 'SELECT tenant_id, SUM(total_amount) AS revenue FROM lakehouse.orders GROUP BY tenant_id';
const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { env: standInEnv(cf, extra) });
const sqlRequests = () => cf.server.requests.filter((r) => r.url.includes('/basin-sql/query/'));

describe('lakehouse query --remote against a stand-in of the Basin SQL HTTP API', () => {
  it('posts {warehouse, query} to the bucket with the token and prints rows like the local engine', async () => {
    const r = await cli(['query', '--remote', SQL]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tenant_id\s+revenue\n-+\s+-+\nt1\s+120\.5\nt2\s+7\n$/);
    expect(seen).toEqual([{ warehouse: 'acc0123_lake-bucket', query: SQL }]);
    const req = sqlRequests()[0]!;
    expect(req.url).toBe('/api/v1/accounts/acc0123/basin-sql/query/lake-bucket');
    expect(req.headers.authorization).toBe(`Bearer ${cf.token}`);
  });

  it('--json prints the R2 SQL shape with Basin SQL metrics; --csv prints CSV', async () => {
    const j = await cli(['query', '--remote', '--json', SQL]);
    expect(JSON.parse(j.stdout)).toEqual({ success: true, errors: [], result: RESULT });
    const c = await cli(['query', '--remote', '--csv', SQL]);
    expect(c.stdout).toBe('tenant_id,revenue\nt1,120.5\nt2,7\n');
  });

  it('prefers WRANGLER_BASIN_SQL_AUTH_TOKEN over CLOUDFLARE_API_TOKEN', async () => {
    const r = await cli(['query', '--remote', SQL], {
      CLOUDFLARE_API_TOKEN: 'a-token-without-sql-read',
      WRANGLER_BASIN_SQL_AUTH_TOKEN: cf.token,
    });
    expect(r.code).toBe(0);
    expect(sqlRequests()[0]!.headers.authorization).toBe(`Bearer ${cf.token}`);
  });

  it('maps Basin SQL refusals to messages that say what to change, exit 1', async () => {
    const unqualified = await cli(['query', '--remote', 'SELECT count(*) FROM orders']);
    expect(unqualified.code).toBe(1);
    expect(unqualified.stderr).toContain('tables must be qualified, e.g. lakehouse.orders');

    cf.sql = () => [
      400,
      { success: false, errors: [{ code: 40003, message: 'syntax error at or near "SELEC"' }] },
    ];
    const syntax = await cli(['query', '--remote', 'SELEC 1']);
    expect(syntax.stderr).toContain('Basin SQL syntax error: syntax error at or near "SELEC"');

    cf.sql = () => [
      400,
      {
        success: false,
        errors: [{ code: 40004, message: 'query exceeds the compute budget for exact DISTINCT' }],
      },
    ];
    const budget = await cli(['query', '--remote', '--json', SQL]);
    expect(budget.code).toBe(1);
    expect(JSON.parse(budget.stdout).errors[0].message).toContain(
      'Basin SQL refused the query over its budget',
    );

    cf.sql = () => [
      400,
      { success: false, errors: [{ code: 40004, message: 'LIMIT must be at most 10000' }] },
    ];
    const limit = await cli(['query', '--remote', `${SQL} LIMIT 50000`]);
    expect(limit.stderr).toContain('Basin SQL returns at most 10,000 rows');
  });

  it('retries a query Basin SQL asks to retry (80001)', async () => {
    const ok = cf.sql;
    let calls = 0;
    cf.sql = (body) =>
      ++calls === 1
        ? [503, { success: false, errors: [{ code: 80001, message: 'please retry' }] }]
        : ok(body);
    const r = await cli(['query', '--remote', SQL]);
    expect(r.code).toBe(0);
    expect(calls).toBe(2);
  });

  it('refuses --tenant with --remote (Basin SQL cannot hide other tenants for us), exit 2', async () => {
    const r = await cli(['query', '--remote', '--tenant', 't1', SQL]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--tenant is not enforced on Basin SQL');
    expect(sqlRequests()).toEqual([]);
  });
});

describe('lakehouse report --remote against a stand-in of the Basin SQL HTTP API', () => {
  it('sends the same SQL as report --sql (qualified tables, tenant in its WHERE) and prints the rows', async () => {
    const args = ['report', 'revenue-by-tenant', '--month', '2026-02', '--tenant', 'shop:eu'];
    const printed = await cli([...args, '--sql']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('lakehouse.orders');
    expect(printed.stdout).toContain("tenant_id = 'shop:eu'");
    // Report SQL uses CTE names after FROM, which the default stand-in mistakes for unqualified tables.
    cf.sql = (body) => {
      seen.push(body);
      return [200, { success: true, errors: [], result: RESULT }];
    };
    const r = await cli([...args, '--remote', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(RESULT.rows);
    expect(seen).toEqual([{ warehouse: 'acc0123_lake-bucket', query: printed.stdout.trimEnd() }]);
  });

  /** Basin SQL answering `SELECT * FROM <table> LIMIT 1` with each table's columns, anything else with RESULT. */
  const versionedLake = (columns: Record<string, string[]>) => {
    cf.sql = (body) => {
      seen.push(body);
      const probe = /^SELECT \* FROM (\S+) LIMIT 1$/.exec(body.query ?? '');
      if (probe && !columns[probe[1]!]) {
        return [400, { success: false, errors: [{ code: 40004, message: `table not found: ${probe[1]}` }] }];
      }
      const schema = probe ? columns[probe[1]!]!.map((name) => ({ name, type: 'Utf8' })) : RESULT.schema;
      return [
        200,
        { success: true, errors: [], result: { ...RESULT, schema, rows: probe ? [] : RESULT.rows } },
      ];
    };
  };

  it('reads orders and orders_v2 together when the account has both versions, a column v1 lacks as NULL', async () => {
    cf.seed('stream', { name: 'orders', schema: { fields: [] } });
    cf.seed('stream', { name: 'orders_v2', schema: { fields: [] } });
    versionedLake({
      'lakehouse.orders': ['event_id', 'tenant_id', 'order_id', 'total_amount', 'status', 'year', 'month'],
      'lakehouse.orders_v2': [
        'event_id',
        'tenant_id',
        'order_id',
        'customer_id',
        'total_amount',
        'status',
        'year',
        'month',
      ],
    });
    const r = await cli(['report', 'revenue-by-tenant', '--month', '2026-02', '--remote', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(RESULT.rows);
    const report = seen.at(-1)!.query!;
    expect(report).toContain(
      'SELECT event_id, tenant_id, order_id, NULL AS customer_id, total_amount, status, year, month FROM lakehouse.orders\n',
    );
    expect(report).toContain(
      'UNION ALL SELECT event_id, tenant_id, order_id, customer_id, total_amount, status, year, month FROM lakehouse.orders_v2) AS orders',
    );
  });

  it('still reads a retired version 1 table, and leaves it out with a note when it cannot be read', async () => {
    cf.seed('stream', { name: 'orders_v2', schema: { fields: [] } });
    const cols = ['event_id', 'tenant_id', 'order_id', 'total_amount', 'status', 'year', 'month'];
    versionedLake({ 'lakehouse.orders': cols, 'lakehouse.orders_v2': cols });
    const both = await cli(['report', 'platform-health', '--month', '2026-02', '--remote', '--json']);
    expect(both.code, both.stderr).toBe(0);
    expect(seen.at(-1)!.query).toContain('FROM lakehouse.orders\n  UNION ALL SELECT');
    versionedLake({ 'lakehouse.orders_v2': cols });
    const one = await cli(['report', 'platform-health', '--month', '2026-02', '--remote', '--json']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toContain('note: lakehouse.orders (a retired version) cannot be read; left out');
    expect(seen.at(-1)!.query).toContain('FROM lakehouse.orders_v2\n');
    expect(seen.at(-1)!.query).not.toContain('UNION ALL');
  });

  it('a Basin SQL refusal is a one-line message and exit 1', async () => {
    cf.sql = () => [400, { success: false, errors: [{ code: 40004, message: 'syntax error near WITH' }] }];
    const r = await cli(['report', 'platform-health', '--month', '2026-02', '--remote']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^lakehouse: report platform-health failed: .*syntax error near WITH/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('lakehouse catalog-config', () => {
  it('--remote prints the R2 Data Catalog URI and warehouse for each engine, never the token', async () => {
    const uri = 'https://catalog.cloudflarestorage.com/acc0123/lake-bucket';
    const duck = await cli(['catalog-config', '--engine', 'duckdb', '--remote']);
    expect(duck.code).toBe(0);
    expect(duck.stdout).toContain(`ATTACH 'acc0123_lake-bucket' AS lake (TYPE ICEBERG, ENDPOINT '${uri}');`);
    const py = await cli(['catalog-config', '--engine', 'pyiceberg', '--remote']);
    expect(py.stdout).toContain(`uri="${uri}"`);
    expect(py.stdout).toContain('warehouse="acc0123_lake-bucket"');
    const spark = await cli(['catalog-config', '--engine', 'spark', '--remote']);
    expect(spark.stdout).toContain(`spark.sql.catalog.lake.uri=${uri}`);
    expect(spark.stdout).toContain('header.X-Iceberg-Access-Delegation=vended-credentials');
    for (const r of [duck, py, spark]) expect(r.stdout).not.toContain('catalog-secret');
  });

  it('without --remote points at the local catalog; an unknown engine is a usage error', async () => {
    const r = await cli(['catalog-config', '--engine', 'pyiceberg']);
    expect(r.stdout).toContain('RestCatalog("local", uri="http://127.0.0.1:8787/catalog")');
    const bad = await cli(['catalog-config', '--engine', 'trino']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Allowed choices are duckdb, pyiceberg, spark');
  });
});
