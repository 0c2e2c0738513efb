import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_HTML } from '../../src/dashboard/page.js';
import { runQuery } from '../../src/lakehouse/query.js';
import { DASHBOARD_DEFAULT_SQL, REPORT_NAMES, reportSql } from '../../src/reports/reports.js';
import {
  planDataset,
  postJson,
  startServer,
  stopAll,
  TENANT_A,
  TENANT_B,
  TENANT_C,
} from '../lakehouse/support.js';
import { runCli } from '../support/cli.js';

let env: NodeJS.ProcessEnv;
let warehouse: string;

beforeAll(async () => {
  const s = await startServer();
  for (const [stream, records] of Object.entries(planDataset())) {
    expect((await postJson(`${s.url}/ingest/${stream}`, records)).status).toBe(200);
  }
  await s.ingestor.flush();
  warehouse = s.warehouse;
  env = { ...process.env, LAKEHOUSE_WAREHOUSE: s.warehouse };
});
afterAll(async () => {
  await stopAll();
});

describe('lakehouse report', () => {
  it('prints --json as an array of row objects with the plan column names', async () => {
    const r = await runCli(['report', 'revenue-by-tenant', '--month', '2026-02', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows.map((x) => x.tenant_id)).toEqual([TENANT_B, TENANT_A, TENANT_C]);
    expect(rows[0]).toMatchObject({ total_revenue: 99.99, order_count: 1, avg_order_value: 99.99 });
    expect(rows[1]).toMatchObject({ total_revenue: 60.6234, order_count: 3 });
  });

  it('prints --csv with a header and scopes to --tenant', async () => {
    const r = await runCli(
      ['report', 'platform-health', '--month', '2026-02', '--csv', '--tenant', TENANT_C],
      {
        env,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      'active_tenants,platform_gmv,total_orders,net_revenue,cancelled_orders\n1,12,2,12,0\n',
    );
  });

  it('lists a tenant with no order this month in churn-risk with current_orders = 0', async () => {
    const r = await runCli(['report', 'churn-risk', '--month', '2026-03', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { tenant_id: TENANT_A, current_orders: 0, previous_orders: 3, change_pct: -100 },
      { tenant_id: TENANT_B, current_orders: 0, previous_orders: 1, change_pct: -100 },
      { tenant_id: TENANT_C, current_orders: 0, previous_orders: 2, change_pct: -100 },
    ]);
    const feb = await runCli(['report', 'churn-risk', '--month', '2026-02', '--threshold', '-50', '--json'], {
      env,
    });
    expect(JSON.parse(feb.stdout)).toEqual([
      { tenant_id: TENANT_B, current_orders: 1, previous_orders: 4, change_pct: -75 },
    ]);
  });

  it('answers monthly-trend and price-changes for a tenant', async () => {
    const trend = await runCli(['report', 'monthly-trend', '--tenant', TENANT_A, '--json'], { env });
    expect(
      JSON.parse(trend.stdout).map((x: Record<string, unknown>) => [x.year, x.month, x.unique_customers]),
    ).toEqual([
      [2025, 12, 1],
      [2026, 1, 2],
      [2026, 2, 2],
    ]);
    const prices = await runCli(
      ['report', 'price-changes', '--tenant', TENANT_A, '--year', '2026', '--json'],
      {
        env,
      },
    );
    expect(JSON.parse(prices.stdout)).toEqual([
      { product_id: 'p1', lowest_price: 9.5, highest_price: 14.25, price_changes: 6 },
    ]);
  });

  it('exits 2 naming the flag for a missing or malformed parameter or an unknown report', async () => {
    for (const [args, message] of [
      [['revenue-by-tenant'], /needs --month/],
      [['revenue-by-tenant', '--month', '2026-13'], /--month must be a month like 2026-02/],
      [['monthly-trend'], /needs --tenant/],
      [['price-changes', '--tenant', 'x'], /needs --year/],
      [['churn-risk', '--month', '2026-02', '--threshold', 'abc'], /--threshold must be a number/],
      [['no-such-report'], /unknown report "no-such-report"/],
    ] as const) {
      const r = await runCli(['report', ...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('writes every report with qualified table names and no SELECT alias in WHERE (the Basin SQL dialect)', () => {
    for (const name of REPORT_NAMES) {
      const { sql } = reportSql(name, { month: '2026-02', year: 2026, tenant: "o'brien" });
      expect(sql).not.toMatch(/\bFROM\s+(orders|product_changes)\b/);
      expect(sql).toMatch(/\blakehouse\.(orders|product_changes)\b/);
      expect(sql).not.toMatch(/\bWHERE\s+change_pct\b/);
      expect(sql).not.toMatch(/\b(OVER|DISTINCT)\b/i);
      if (sql.includes('tenant_id =')) expect(sql).toContain("'o''brien'");
    }
  });

  it("the dashboard's default query counts each order once and is on the page", async () => {
    const r = await runQuery(warehouse, DASHBOARD_DEFAULT_SQL);
    expect(r.rows.find((x) => x.tenant_id === TENANT_A)).toMatchObject({ orders: 6, net_revenue: 222.8734 });
    expect(DASHBOARD_HTML).toContain('FROM lakehouse.orders');
  });
});
