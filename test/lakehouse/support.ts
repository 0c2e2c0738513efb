import { randomUUID } from 'node:crypto';
import { mkdtemp, open, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromFileUri } from '../../src/lakehouse/paths.js';
import {
  createLakehouseServer,
  type LakehouseServer,
  type ServeOptions,
} from '../../src/lakehouse/server.js';
import { pipelines } from '../../src/pipelines/definitions.js';
import type { PipelineDefinition } from '../../src/pipelines/types.js';

export const TENANT_A = '0195134f-8258-7e85';
export const TENANT_B = 'tenant-b';
export const TENANT_C = 'tenant-c';

export const PIPELINES: PipelineDefinition[] = Object.values(pipelines);

export const tempWarehouse = () => mkdtemp(join(tmpdir(), 'lakehouse-test-'));

const started = new Set<LakehouseServer>();

/** Starts a real server on a free port over a fresh warehouse. */
export async function startServer(
  overrides: Partial<ServeOptions> = {},
): Promise<LakehouseServer & { warehouse: string }> {
  const warehouse = overrides.warehouse ?? (await tempWarehouse());
  const server = createLakehouseServer({
    warehouse,
    pipelines: PIPELINES,
    port: 0,
    rollIntervalMs: 60_000,
    compactIntervalMs: 0,
    onError: (e, what) => {
      throw new Error(`${what}: ${String(e)}`);
    },
    ...overrides,
  });
  await server.start();
  started.add(server);
  return Object.assign(server, { warehouse });
}

/** Stops every server a test started (call from afterEach); returns how many were running. */
export async function stopAll(): Promise<number> {
  const n = started.size;
  for (const s of started) await s.stop();
  started.clear();
  return n;
}

/** Polls `check` until it returns a value other than undefined, or throws at the deadline. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const ev = (event_type: string, fields: Record<string, unknown>) => ({
  event_id: randomUUID(),
  event_type,
  ...fields,
});

let seq = 0;
export function order(tenant: string, createdAt: string, amount: number, customer: string | null) {
  seq++;
  return ev('order.placed', {
    order_id: `o-${seq}`,
    tenant_id: tenant,
    site_id: 's1',
    customer_id: customer,
    total_amount: amount,
    currency: 'EUR',
    status: 'placed',
    payment_method: 'card',
    item_count: 1,
    created_at: createdAt,
  });
}

export function priceChange(tenant: string, product: string, at: string, oldPrice: number, newPrice: number) {
  return ev('product.changed', {
    product_id: product,
    tenant_id: tenant,
    change_type: 'price',
    old_price: oldPrice,
    new_price: newPrice,
    old_stock: null,
    new_stock: null,
    changed_at: at,
  });
}

/**
 * The known data set: orders of three tenants in 2025-12, 2026-01 and 2026-02 and price
 * changes, chosen so that every plan query returns rows (tenant-b's orders drop 75%).
 */
export function planDataset() {
  const orders = [
    order(TENANT_A, '2025-12-15T09:00:00Z', 12, 'c1'),
    order(TENANT_A, '2026-01-03T10:00:00Z', 100, 'c1'),
    order(TENANT_A, '2026-01-20T10:00:00Z', 50.25, 'c2'),
    order(TENANT_A, '2026-02-01T00:00:00Z', 10.5, 'c1'),
    order(TENANT_A, '2026-02-10T12:00:00Z', 20, 'c3'),
    order(TENANT_A, '2026-02-28T23:59:59.999Z', 30.1234, 'c3'),
    ...[1, 2, 3, 4].map((d) => order(TENANT_B, `2026-01-0${d}T08:00:00Z`, 40, `b${d}`)),
    order(TENANT_B, '2026-02-05T08:00:00+01:00', 99.99, 'b1'),
    order(TENANT_C, '2026-02-11T08:00:00Z', 5, null),
    order(TENANT_C, '2026-02-12T08:00:00Z', 7, 'x1'),
  ];
  const p1: [number, number][] = [
    [10, 11],
    [11, 12],
    [12, 9.5],
    [9.5, 13],
    [13, 14.25],
    [14.25, 10],
  ];
  const productChanges = [
    ...p1.map(([o, n], i) => priceChange(TENANT_A, 'p1', `2026-01-${String(10 + i)}T10:00:00Z`, o, n)),
    priceChange(TENANT_A, 'p1', '2025-06-01T10:00:00Z', 5, 100),
    priceChange(TENANT_A, 'p2', '2026-02-01T10:00:00Z', 3, 4),
    priceChange(TENANT_A, 'p2', '2026-02-02T10:00:00Z', 4, 5),
    ...[0, 1, 2, 3, 4, 5, 6].map((i) => priceChange(TENANT_B, 'p1', `2026-02-0${i + 1}T10:00:00Z`, 1, 2)),
  ];
  const userActivity = [
    ev('activity.recorded', {
      tenant_id: TENANT_A,
      session_id: 'sess1',
      activity_type: 'page_view',
      path: '/home',
      occurred_at: '2026-02-01T10:00:00Z',
    }),
    ev('activity.recorded', {
      tenant_id: TENANT_B,
      session_id: 'sess2',
      activity_type: 'search',
      search_query: 'shoes',
      occurred_at: '2026-02-02T23:30:00Z',
    }),
  ];
  const agentDecisions = [
    ev('agent.decided', {
      decision_id: 'd1',
      tenant_id: TENANT_A,
      agent_type: 'pricing',
      action: 'lower price',
      outcome: 'proposed',
      confidence: 0.75,
      latency_ms: 120,
      decided_at: '2026-02-01T10:00:00Z',
    }),
  ];
  const syncEvents = [
    ev('sync.recorded', {
      tenant_id: TENANT_A,
      source: 'prestashop',
      entity: 'product',
      entity_id: 'p1',
      operation: 'update',
      direction: 'inbound',
      status: 'success',
      duration_ms: 35,
      synced_at: '2026-02-01T10:00:00Z',
    }),
  ];
  const apiCalls = [
    ev('api.called', {
      request_id: 'r1',
      tenant_id: TENANT_C,
      route: '/v1/orders',
      method: 'GET',
      status_code: 200,
      duration_ms: 12.5,
      called_at: '2026-02-03T10:00:00Z',
    }),
  ];
  return {
    orders,
    product_changes: productChanges,
    user_activity: userActivity,
    agent_decisions: agentDecisions,
    sync_events: syncEvents,
    api_calls: apiCalls,
  };
}

/** The plan's five queries, verbatim. */
export const PLAN_QUERIES = {
  revenueByTenant: `SELECT
  tenant_id,
  SUM(total_amount) AS total_revenue,
  COUNT(*) AS order_count,
  AVG(total_amount) AS avg_order_value
FROM orders
WHERE year = 2026 AND month = 2
GROUP BY tenant_id
ORDER BY total_revenue DESC;`,
  monthlyTrend: `SELECT
  year,
  month,
  SUM(total_amount) AS revenue,
  COUNT(DISTINCT customer_id) AS unique_customers
FROM orders
WHERE tenant_id = '0195134f-8258-7e85'
GROUP BY year, month
ORDER BY year, month;`,
  priceChanges: `SELECT
  product_id,
  MIN(old_price) AS lowest_price,
  MAX(new_price) AS highest_price,
  COUNT(*) AS price_changes
FROM product_changes
WHERE tenant_id = '0195134f-8258-7e85'
  AND year = 2026
GROUP BY product_id
HAVING COUNT(*) > 5;`,
  platformHealth: `SELECT
  COUNT(DISTINCT tenant_id) AS active_tenants,
  SUM(total_amount) AS platform_gmv,
  COUNT(*) AS total_orders
FROM orders
WHERE year = 2026 AND month = 2;`,
  churnRisk: `SELECT
  tenant_id,
  this_month.orders AS current_orders,
  last_month.orders AS previous_orders,
  (this_month.orders - last_month.orders) * 100.0 / last_month.orders AS change_pct
FROM (
  SELECT tenant_id, COUNT(*) AS orders
  FROM orders WHERE year = 2026 AND month = 2
  GROUP BY tenant_id
) this_month
JOIN (
  SELECT tenant_id, COUNT(*) AS orders
  FROM orders WHERE year = 2026 AND month = 1
  GROUP BY tenant_id
) last_month USING (tenant_id)
WHERE change_pct < -30
ORDER BY change_pct;`,
};

/**
 * A `fetch` for `file://` URLs (Node's rejects them), for icebird: HEAD answers with the
 * content-length, `Range: bytes=a-b` with 206 and that slice; other URLs go to the real fetch.
 */
export function fileFetch(realFetch: typeof fetch): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('file:')) return realFetch(input, init);
    const path = fromFileUri(url);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      return new Response('not found', { status: 404 });
    }
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    if (method === 'HEAD')
      return new Response(null, { status: 200, headers: { 'content-length': String(size) } });
    const range = new Headers(init?.headers).get('range');
    const m = range ? /bytes=(\d+)-(\d*)/.exec(range) : null;
    const start = m ? Number(m[1]) : 0;
    const end = m?.[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.alloc(Math.max(0, end - start + 1));
      await fh.read(buf, 0, buf.length, start);
      return new Response(buf, {
        status: m ? 206 : 200,
        headers: {
          'content-length': String(buf.length),
          ...(m ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
        },
      });
    } finally {
      await fh.close();
    }
  }) as typeof fetch;
}
