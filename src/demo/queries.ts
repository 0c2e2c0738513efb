import { FIRST_TENANT_ID } from './world.js';

/** One of the plan's analytics queries. */
export interface DemoQuery {
  name: string;
  sql: string;
}

/** The plan's five analytics queries (Step 3 and "Platform Analytics"), as written there. */
export function demoQueries(tenantId = FIRST_TENANT_ID): DemoQuery[] {
  const t = `'${tenantId.replaceAll("'", "''")}'`;
  return [
    {
      name: 'Revenue by tenant (February 2026)',
      sql: `SELECT tenant_id, SUM(total_amount) AS total_revenue, COUNT(*) AS order_count,
       AVG(total_amount) AS avg_order_value
FROM orders WHERE year = 2026 AND month = 2
GROUP BY tenant_id ORDER BY total_revenue DESC`,
    },
    {
      name: `Monthly revenue trend (tenant ${tenantId})`,
      sql: `SELECT year, month, SUM(total_amount) AS revenue, COUNT(DISTINCT customer_id) AS unique_customers
FROM orders WHERE tenant_id = ${t}
GROUP BY year, month ORDER BY year, month`,
    },
    {
      name: `Product price changes in 2026 (tenant ${tenantId})`,
      sql: `SELECT product_id, MIN(old_price) AS lowest_price, MAX(new_price) AS highest_price,
       COUNT(*) AS price_changes
FROM product_changes WHERE tenant_id = ${t} AND year = 2026
GROUP BY product_id HAVING COUNT(*) > 5 ORDER BY product_id`,
    },
    {
      name: 'Platform health (February 2026)',
      sql: `SELECT COUNT(DISTINCT tenant_id) AS active_tenants, SUM(total_amount) AS platform_gmv,
       COUNT(*) AS total_orders
FROM orders WHERE year = 2026 AND month = 2`,
    },
    {
      name: 'Churn risk: orders down more than 30% (February vs January 2026)',
      sql: `SELECT tenant_id, this_month.orders AS current_orders, last_month.orders AS previous_orders,
       (this_month.orders - last_month.orders) * 100.0 / last_month.orders AS change_pct
FROM (SELECT tenant_id, COUNT(*) AS orders FROM orders WHERE year = 2026 AND month = 2 GROUP BY tenant_id) this_month
JOIN (SELECT tenant_id, COUNT(*) AS orders FROM orders WHERE year = 2026 AND month = 1 GROUP BY tenant_id) last_month
USING (tenant_id)
WHERE change_pct < -30
ORDER BY change_pct`,
    },
  ];
}
