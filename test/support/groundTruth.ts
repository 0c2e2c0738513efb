import type pg from 'pg';
import { expect } from 'vitest';
import type { ReportResult } from '../../src/reports/runReport.js';

/**
 * The answers of the five reports computed from the business tables in PostgreSQL (the
 * books), independently of the lake: `<schema>.orders` holds one row per order with its
 * current status (the demo's business table), `<schema>.price_changes` one row per price
 * change. Definitions as in the README: net revenue excludes orders cancelled or refunded.
 */
const KEPT = "status NOT IN ('cancelled', 'refunded')";

function monthRange(month: string): [string, string] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const next = m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
  return [`${month}-01T00:00:00Z`, `${next}-01T00:00:00Z`];
}

function previous(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

export interface GroundTruthParams {
  month?: string;
  year?: number;
  tenant?: string;
  minChanges?: number;
  threshold?: number;
}

/** The rows a report must return, from the business tables. */
export async function groundTruth(
  pool: pg.Pool,
  schema: string,
  report: string,
  p: GroundTruthParams,
): Promise<Record<string, unknown>[]> {
  const s = `"${schema}"`;
  const q = async (sql: string, params: unknown[]) => (await pool.query(sql, params)).rows;
  const tenantAnd = (i: number) => (p.tenant === undefined ? '' : ` AND tenant_id = $${i}`);
  const withTenant = (params: unknown[]) => (p.tenant === undefined ? params : [...params, p.tenant]);
  switch (report) {
    case 'revenue-by-tenant':
      return q(
        `SELECT tenant_id, COALESCE(SUM(total_amount) FILTER (WHERE ${KEPT}), 0) AS total_revenue,
                COUNT(*) FILTER (WHERE ${KEPT}) AS order_count,
                AVG(total_amount) FILTER (WHERE ${KEPT}) AS avg_order_value,
                SUM(total_amount) AS gross_revenue,
                COUNT(*) FILTER (WHERE NOT ${KEPT}) AS cancelled_orders
           FROM ${s}.orders WHERE created_at >= $1 AND created_at < $2${tenantAnd(3)}
          GROUP BY tenant_id ORDER BY total_revenue DESC, tenant_id COLLATE "C"`,
        withTenant(monthRange(p.month!)),
      );
    case 'monthly-trend':
      return q(
        `SELECT EXTRACT(YEAR FROM created_at AT TIME ZONE 'UTC')::int AS year,
                EXTRACT(MONTH FROM created_at AT TIME ZONE 'UTC')::int AS month,
                COALESCE(SUM(total_amount) FILTER (WHERE ${KEPT}), 0) AS revenue,
                COUNT(DISTINCT customer_id) FILTER (WHERE ${KEPT}) AS unique_customers,
                COUNT(*) FILTER (WHERE ${KEPT}) AS order_count,
                SUM(total_amount) AS gross_revenue
           FROM ${s}.orders WHERE tenant_id = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
        [p.tenant],
      );
    case 'price-changes':
      return q(
        `SELECT product_id, LEAST(MIN(old_price), MIN(new_price)) AS lowest_price,
                GREATEST(MAX(old_price), MAX(new_price)) AS highest_price, COUNT(*) AS price_changes
           FROM ${s}.price_changes
          WHERE tenant_id = $1 AND EXTRACT(YEAR FROM changed_at AT TIME ZONE 'UTC') = $2
          GROUP BY product_id HAVING COUNT(*) >= $3 ORDER BY product_id COLLATE "C"`,
        [p.tenant, p.year, p.minChanges ?? 5],
      );
    case 'platform-health':
      return q(
        `SELECT COUNT(DISTINCT tenant_id) AS active_tenants, COALESCE(SUM(total_amount), 0) AS platform_gmv,
                COUNT(*) AS total_orders, COALESCE(SUM(total_amount) FILTER (WHERE ${KEPT}), 0) AS net_revenue,
                COUNT(*) FILTER (WHERE NOT ${KEPT}) AS cancelled_orders
           FROM ${s}.orders WHERE created_at >= $1 AND created_at < $2${tenantAnd(3)}`,
        withTenant(monthRange(p.month!)),
      );
    case 'churn-risk': {
      const [cs, ce] = monthRange(p.month!);
      const [ps, pe] = monthRange(previous(p.month!));
      return q(
        `WITH cur AS (SELECT tenant_id, COUNT(*) AS n FROM ${s}.orders WHERE created_at >= $1 AND created_at < $2 GROUP BY 1),
              prev AS (SELECT tenant_id, COUNT(*) AS n FROM ${s}.orders WHERE created_at >= $3 AND created_at < $4 GROUP BY 1)
         SELECT prev.tenant_id, COALESCE(cur.n, 0) AS current_orders, prev.n AS previous_orders,
                (COALESCE(cur.n, 0) - prev.n) * 100.0 / prev.n AS change_pct
           FROM prev LEFT JOIN cur USING (tenant_id)
          WHERE (COALESCE(cur.n, 0) - prev.n) * 100.0 / prev.n < $5${p.tenant === undefined ? '' : ' AND prev.tenant_id = $6'}
          ORDER BY change_pct, prev.tenant_id COLLATE "C"`,
        [cs, ce, ps, pe, p.threshold ?? -30, ...(p.tenant === undefined ? [] : [p.tenant])],
      );
    }
    default:
      throw new Error(`no ground truth for ${report}`);
  }
}

/** Columns whose values are averages or ratios: compared to 9 significant digits, not exactly. */
const RATIOS = new Set(['avg_order_value', 'change_pct']);

function normalize(row: Record<string, unknown>, columns: string[]) {
  return Object.fromEntries(
    columns.map((c) => {
      const v = row[c];
      if (v === null || v === undefined) return [c, null];
      if (c === 'tenant_id' || c === 'product_id') return [c, String(v)];
      const n = Number(v);
      return [c, RATIOS.has(c) ? Number(n.toPrecision(9)) : n];
    }),
  );
}

/** Asserts that a report's rows equal the ground truth (sums and counts exactly, in order). */
export function expectReportEquals(
  result: ReportResult,
  truth: Record<string, unknown>[],
  what: string,
): void {
  const columns = Object.keys(truth[0] ?? Object.fromEntries(result.columns.map((c) => [c, null])));
  expect(
    result.rows.map((r) => normalize(r, columns)),
    what,
  ).toEqual(truth.map((r) => normalize(r, columns)));
}
