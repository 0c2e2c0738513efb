import { LakehouseError } from '../errors.js';
import { type LakeTables, readAcrossVersions } from './versionTables.js';

/**
 * The plan's five analytics questions as named, parameterised reports. Each report's SQL is
 * written once, in the dialect shared by the local engine (DuckDB) and Basin SQL
 * (DataFusion):
 * - tables are qualified (`lakehouse.orders`), as Basin SQL requires;
 * - no SELECT alias is used in WHERE (DataFusion rejects it; ORDER BY may use one);
 * - no window functions and no `DISTINCT` (both are budget-gated on Basin SQL): duplicates
 *   collapse through GROUP BY;
 * - parameters are validated here and written as literals (Basin SQL takes no bind
 *   parameters): integers, or strings quoted with `''` doubling (no backslash escapes in
 *   either engine).
 *
 * What a row of `orders` means: one change of one order (placed, paid, fulfilled,
 * cancelled, refunded), carrying the order's full state after the change; `created_at`,
 * `year` and `month` are the order's creation time, so every row of one order is in the same
 * month. Every report first folds the rows of each order into one (`order_state`): its
 * amount, customer, and whether it ended cancelled or refunded. An order is counted once
 * however many changes (or duplicate deliveries of a change) the table holds.
 *
 * Definitions (README "Reports"):
 * - *gross revenue* of a period: the sum of `total_amount` of the orders created in it;
 * - *net revenue*: the same without orders cancelled or refunded (so far);
 * - *kept orders*: orders created in the period and not cancelled or refunded.
 */

/** A report's name, as given to `lakehouse report <name>`. */
export type ReportName =
  | 'revenue-by-tenant'
  | 'monthly-trend'
  | 'price-changes'
  | 'platform-health'
  | 'churn-risk';

/** Parameters of a report; which ones a report needs is in {@link REPORTS}. */
export interface ReportParams {
  /** `YYYY-MM`: revenue-by-tenant, platform-health, churn-risk. */
  month?: string;
  /** `YYYY`: price-changes. */
  year?: number;
  /** A tenant id: required by monthly-trend and price-changes, a scope for the others. */
  tenant?: string;
  /** price-changes: products with at least this many price changes. Default 5. */
  minChanges?: number;
  /** churn-risk: tenants whose order count changed by less than this percentage. Default -30. */
  threshold?: number;
}

/** One report: what it answers, what it needs, its SQL and its columns. */
export interface ReportDefinition {
  name: ReportName;
  title: (p: ResolvedParams) => string;
  /** Parameters that must be given. */
  requires: readonly ('month' | 'year' | 'tenant')[];
  /** Output columns, in order (the plan's names first). */
  columns: readonly string[];
  sql: (p: ResolvedParams) => string;
}

/** Validated parameters, with defaults. */
export interface ResolvedParams {
  year: number;
  month: number;
  tenant?: string;
  minChanges: number;
  threshold: number;
  /** What to read for a base table: itself, or the union of its stream's version tables. */
  read: (table: string) => string;
}

/** The namespace of the lake tables (Basin SQL needs `namespace.table`). */
export const LAKE_NAMESPACE = 'lakehouse';
const ORDERS = `${LAKE_NAMESPACE}.orders`;
const PRODUCT_CHANGES = `${LAKE_NAMESPACE}.product_changes`;

/** A string literal for both engines: standard SQL, quotes doubled. */
export const sqlLiteral = (s: string): string => `'${s.replaceAll("'", "''")}'`;

const tenantAnd = (p: ResolvedParams) =>
  p.tenant === undefined ? '' : ` AND tenant_id = ${sqlLiteral(p.tenant)}`;

/** 1 when the order ended cancelled or refunded, else 0 (an aggregate over one order's rows). */
const VOIDED = "MAX(CASE WHEN status IN ('cancelled', 'refunded') THEN 1 ELSE 0 END)";

/** One row per order created in year/month (of one tenant when scoped). */
function orderState(p: ResolvedParams, where: string): string {
  return `SELECT tenant_id, order_id, MAX(customer_id) AS customer_id, MAX(total_amount) AS amount,
         ${VOIDED} AS voided
  FROM ${p.read(ORDERS)}
  WHERE ${where}${tenantAnd(p)}
  GROUP BY tenant_id, order_id`;
}

const monthWhere = (year: number, month: number) => `year = ${year} AND month = ${month}`;

function previousMonth(year: number, month: number): { year: number; month: number } {
  return month === 1 ? { year: year - 1, month: 12 } : { year, month: month - 1 };
}

const pad = (m: number) => String(m).padStart(2, '0');

/** The five reports, by name. */
export const REPORTS: Readonly<Record<ReportName, ReportDefinition>> = {
  'revenue-by-tenant': {
    name: 'revenue-by-tenant',
    title: (p) => `Revenue by tenant (${p.year}-${pad(p.month)})`,
    requires: ['month'],
    columns: [
      'tenant_id',
      'total_revenue',
      'order_count',
      'avg_order_value',
      'gross_revenue',
      'cancelled_orders',
    ],
    sql: (p) => `WITH order_state AS (
  ${orderState(p, monthWhere(p.year, p.month))}
)
SELECT tenant_id,
       SUM(CASE WHEN voided = 0 THEN amount ELSE 0 END) AS total_revenue,
       SUM(1 - voided) AS order_count,
       AVG(CASE WHEN voided = 0 THEN amount END) AS avg_order_value,
       SUM(amount) AS gross_revenue,
       SUM(voided) AS cancelled_orders
FROM order_state
GROUP BY tenant_id
ORDER BY total_revenue DESC, tenant_id`,
  },
  'monthly-trend': {
    name: 'monthly-trend',
    title: (p) => `Monthly revenue trend (tenant ${p.tenant})`,
    requires: ['tenant'],
    columns: ['year', 'month', 'revenue', 'unique_customers', 'order_count', 'gross_revenue'],
    sql: (p) => `WITH order_state AS (
  SELECT year, month, order_id, MAX(customer_id) AS customer_id, MAX(total_amount) AS amount,
         ${VOIDED} AS voided
  FROM ${p.read(ORDERS)}
  WHERE tenant_id = ${sqlLiteral(p.tenant!)}
  GROUP BY year, month, order_id
),
monthly AS (
  SELECT year, month,
         SUM(CASE WHEN voided = 0 THEN amount ELSE 0 END) AS revenue,
         SUM(1 - voided) AS order_count,
         SUM(amount) AS gross_revenue
  FROM order_state
  GROUP BY year, month
),
customers AS (
  SELECT year, month, COUNT(*) AS unique_customers
  FROM (SELECT year, month, customer_id FROM order_state
        WHERE voided = 0 AND customer_id IS NOT NULL
        GROUP BY year, month, customer_id) AS buyers
  GROUP BY year, month
)
SELECT m.year AS year, m.month AS month, m.revenue AS revenue,
       COALESCE(c.unique_customers, 0) AS unique_customers,
       m.order_count AS order_count, m.gross_revenue AS gross_revenue
FROM monthly AS m
LEFT JOIN customers AS c ON c.year = m.year AND c.month = m.month
ORDER BY year, month`,
  },
  'price-changes': {
    name: 'price-changes',
    title: (p) => `Product price changes in ${p.year} (tenant ${p.tenant}, at least ${p.minChanges})`,
    requires: ['tenant', 'year'],
    columns: ['product_id', 'lowest_price', 'highest_price', 'price_changes'],
    sql: (p) => `WITH price_change AS (
  SELECT event_id, MAX(product_id) AS product_id, MAX(old_price) AS old_price, MAX(new_price) AS new_price
  FROM ${p.read(PRODUCT_CHANGES)}
  WHERE tenant_id = ${sqlLiteral(p.tenant!)} AND year = ${p.year}
    AND change_type IN ('price', 'price_and_stock')
  GROUP BY event_id
)
SELECT product_id,
       CASE WHEN MIN(old_price) < MIN(new_price) THEN MIN(old_price) ELSE MIN(new_price) END AS lowest_price,
       CASE WHEN MAX(old_price) > MAX(new_price) THEN MAX(old_price) ELSE MAX(new_price) END AS highest_price,
       COUNT(*) AS price_changes
FROM price_change
GROUP BY product_id
HAVING COUNT(*) >= ${p.minChanges}
ORDER BY product_id`,
  },
  'platform-health': {
    name: 'platform-health',
    title: (p) => `Platform health (${p.year}-${pad(p.month)})`,
    requires: ['month'],
    columns: ['active_tenants', 'platform_gmv', 'total_orders', 'net_revenue', 'cancelled_orders'],
    sql: (p) => `WITH order_state AS (
  ${orderState(p, monthWhere(p.year, p.month))}
),
tenants AS (
  SELECT tenant_id FROM order_state GROUP BY tenant_id
)
SELECT (SELECT COUNT(*) FROM tenants) AS active_tenants,
       COALESCE(SUM(amount), 0) AS platform_gmv,
       COUNT(*) AS total_orders,
       COALESCE(SUM(CASE WHEN voided = 0 THEN amount ELSE 0 END), 0) AS net_revenue,
       COALESCE(SUM(voided), 0) AS cancelled_orders
FROM order_state`,
  },
  'churn-risk': {
    name: 'churn-risk',
    title: (p) => {
      const prev = previousMonth(p.year, p.month);
      return `Churn risk: orders changed by less than ${p.threshold}% (${p.year}-${pad(p.month)} vs ${prev.year}-${pad(prev.month)})`;
    },
    requires: ['month'],
    columns: ['tenant_id', 'current_orders', 'previous_orders', 'change_pct'],
    sql: (p) => {
      const prev = previousMonth(p.year, p.month);
      const change = '(COALESCE(c.orders, 0) - l.orders) * 100.0 / l.orders';
      return `WITH current_orders AS (
  SELECT tenant_id, COUNT(*) AS orders
  FROM (${orderState(p, monthWhere(p.year, p.month))}) AS o
  GROUP BY tenant_id
),
previous_orders AS (
  SELECT tenant_id, COUNT(*) AS orders
  FROM (${orderState(p, monthWhere(prev.year, prev.month))}) AS o
  GROUP BY tenant_id
)
SELECT l.tenant_id AS tenant_id, COALESCE(c.orders, 0) AS current_orders, l.orders AS previous_orders,
       ${change} AS change_pct
FROM previous_orders AS l
LEFT JOIN current_orders AS c ON c.tenant_id = l.tenant_id
WHERE ${change} < ${p.threshold}
ORDER BY change_pct, tenant_id`;
    },
  },
};

export const REPORT_NAMES = Object.keys(REPORTS) as ReportName[];

function bad(message: string): never {
  throw new LakehouseError('CONFIG', message);
}

function parseMonth(month: string | undefined): { year: number; month: number } {
  const m = /^(\d{4})-(\d{2})$/.exec(month ?? '');
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12)
    bad(`--month must be a month like 2026-02, got "${month}"`);
  return { year: Number(m[1]), month: Number(m[2]) };
}

/**
 * A report's SQL for the given parameters, validated (a missing or malformed parameter is a
 * `CONFIG` error naming the flag). With `tables`, a stream with several versions is read
 * across all its version tables ({@link readAcrossVersions}).
 */
export function reportSql(
  name: string,
  params: ReportParams,
  tables?: LakeTables,
): { definition: ReportDefinition; params: ResolvedParams; sql: string } {
  if (!Object.hasOwn(REPORTS, name)) bad(`unknown report "${name}"; reports: ${REPORT_NAMES.join(', ')}`);
  const definition = REPORTS[name as ReportName];
  for (const r of definition.requires) {
    if (params[r] === undefined) bad(`report ${name} needs --${r}`);
  }
  const { year, month } = params.month !== undefined ? parseMonth(params.month) : { year: 0, month: 0 };
  const resolved: ResolvedParams = {
    year: definition.requires.includes('year') ? checkYear(params.year) : year,
    month,
    tenant: params.tenant,
    minChanges: params.minChanges ?? 5,
    threshold: params.threshold ?? -30,
    read: (table) => readAcrossVersions(table, tables),
  };
  if (!Number.isSafeInteger(resolved.minChanges) || resolved.minChanges < 1)
    bad(`--min-changes must be a positive integer, got "${params.minChanges}"`);
  if (!Number.isFinite(resolved.threshold)) bad(`--threshold must be a number, got "${params.threshold}"`);
  return { definition, params: resolved, sql: definition.sql(resolved) };
}

function checkYear(year: number | undefined): number {
  if (year === undefined || !Number.isInteger(year) || year < 1900 || year > 9999)
    bad(`--year must be a year like 2026, got "${year}"`);
  return year;
}

/**
 * The dashboard's default query: net revenue and orders per tenant over the whole lake,
 * each order counted once (the same folding as the reports).
 */
export const DASHBOARD_DEFAULT_SQL = `WITH order_state AS (
  SELECT tenant_id, order_id, MAX(total_amount) AS amount, ${VOIDED} AS voided
  FROM ${ORDERS}
  GROUP BY tenant_id, order_id
)
SELECT tenant_id, SUM(1 - voided) AS orders, SUM(CASE WHEN voided = 0 THEN amount ELSE 0 END) AS net_revenue,
       SUM(amount) AS gross_revenue
FROM order_state
GROUP BY tenant_id
ORDER BY net_revenue DESC, tenant_id`;
