import type { StreamName } from '../domain/catalog.js';
import { LakehouseError } from '../errors.js';
import { definePipeline } from './definePipeline.js';
import type { PipelineDefinition } from './types.js';

/**
 * The six pipelines of the plan (Step 1 and "Table Design"), one per lake stream.
 *
 * Names: the plan's `orders-events`, `products-events` and `activity-events` are not valid
 * Cloudflare names (`^[a-zA-Z0-9_]+$`), so `-` becomes `_`: `orders_events`,
 * `products_events`, `activity_events`; the three pipelines the plan does not name follow
 * the same pattern: `agents_events`, `syncs_events`, `api_events`. Each pipeline's stream
 * is named like the lake stream (`orders`) and its sink `<table>_sink` (`orders_sink`).
 *
 * The SQL has to run on two engines: DuckDB (the local platform, and `loadPipelines`) and
 * DataFusion (Cloudflare). It keeps to qualified column reads, `EXTRACT`, `CAST` and simple
 * comparisons:
 * - `year`/`month` are `CAST(EXTRACT(... ) AS INT)`: DuckDB's EXTRACT gives BIGINT and
 *   DataFusion's has given Float64 or Int32 depending on the version; the cast makes
 *   the column an Iceberg `int` on both (and partition paths `year=2026`, not `2026.0`).
 * - `date` is `CAST(ts AS DATE)`, a real DATE (Iceberg `date`), rather than a
 *   'YYYY-MM-DD' string: formatting functions differ (`strftime` vs `to_char`), CAST does
 *   not, and a DATE compares and prunes as a date. Both engines compute it in UTC (the
 *   validator sets DuckDB's TimeZone to UTC).
 */
const NAMESPACE = 'lakehouse';

export const ordersPipeline = definePipeline({
  name: 'orders_events',
  stream: 'orders',
  source: 'http',
  destination: {
    type: 'r2-data-catalog',
    format: 'iceberg',
    namespace: NAMESPACE,
    table: 'orders',
    partition: ['tenant_id', 'year', 'month'],
  },
  // The plan keeps only orders with an amount: zero-amount events do not reach this table.
  transform: `
SELECT
  event.event_id AS event_id,
  event.event_type AS event_type,
  event.order_id AS order_id,
  event.tenant_id AS tenant_id,
  event.site_id AS site_id,
  event.customer_id AS customer_id,
  event.total_amount AS total_amount,
  event.currency AS currency,
  event.status AS status,
  event.payment_method AS payment_method,
  event.item_count AS item_count,
  event.created_at AS created_at,
  CAST(EXTRACT(YEAR FROM event.created_at) AS INT) AS year,
  CAST(EXTRACT(MONTH FROM event.created_at) AS INT) AS month
FROM source AS event
WHERE event.total_amount > 0
`.trim(),
});

export const productChangesPipeline = definePipeline({
  name: 'products_events',
  stream: 'product_changes',
  source: 'workers-binding',
  destination: {
    type: 'r2-data-catalog',
    format: 'iceberg',
    namespace: NAMESPACE,
    table: 'product_changes',
    partition: ['tenant_id', 'year'],
  },
  transform: `
SELECT
  event.event_id AS event_id,
  event.event_type AS event_type,
  event.product_id AS product_id,
  event.tenant_id AS tenant_id,
  event.change_type AS change_type,
  event.old_price AS old_price,
  event.new_price AS new_price,
  event.old_stock AS old_stock,
  event.new_stock AS new_stock,
  event.changed_at AS changed_at,
  CAST(EXTRACT(YEAR FROM event.changed_at) AS INT) AS year
FROM source AS event
`.trim(),
});

export const userActivityPipeline = definePipeline({
  name: 'activity_events',
  stream: 'user_activity',
  source: 'http',
  destination: {
    type: 'r2-data-catalog',
    format: 'iceberg',
    namespace: NAMESPACE,
    table: 'user_activity',
    partition: ['tenant_id', 'date'],
  },
  transform: `
SELECT
  event.event_id AS event_id,
  event.event_type AS event_type,
  event.tenant_id AS tenant_id,
  event.site_id AS site_id,
  event.session_id AS session_id,
  event.user_id AS user_id,
  event.activity_type AS activity_type,
  event.path AS path,
  event.search_query AS search_query,
  event.occurred_at AS occurred_at,
  CAST(event.occurred_at AS DATE) AS date
FROM source AS event
`.trim(),
});

export const agentDecisionsPipeline = definePipeline({
  name: 'agents_events',
  stream: 'agent_decisions',
  source: 'http',
  destination: {
    type: 'r2-data-catalog',
    format: 'iceberg',
    namespace: NAMESPACE,
    table: 'agent_decisions',
    partition: ['tenant_id', 'agent_type'],
  },
  transform: `
SELECT
  event.event_id AS event_id,
  event.event_type AS event_type,
  event.decision_id AS decision_id,
  event.tenant_id AS tenant_id,
  event.agent_type AS agent_type,
  event.action AS action,
  event.input_summary AS input_summary,
  event.outcome AS outcome,
  event.confidence AS confidence,
  event.model AS model,
  event.latency_ms AS latency_ms,
  event.decided_at AS decided_at
FROM source AS event
`.trim(),
});

export const syncEventsPipeline = definePipeline({
  name: 'syncs_events',
  stream: 'sync_events',
  source: 'http',
  destination: {
    type: 'r2-data-catalog',
    format: 'iceberg',
    namespace: NAMESPACE,
    table: 'sync_events',
    partition: ['tenant_id', 'source'],
  },
  transform: `
SELECT
  event.event_id AS event_id,
  event.event_type AS event_type,
  event.tenant_id AS tenant_id,
  event.source AS source,
  event.entity AS entity,
  event.entity_id AS entity_id,
  event.operation AS operation,
  event.direction AS direction,
  event.status AS status,
  event.error AS error,
  event.duration_ms AS duration_ms,
  event.synced_at AS synced_at
FROM source AS event
`.trim(),
});

export const apiCallsPipeline = definePipeline({
  name: 'api_events',
  stream: 'api_calls',
  source: 'http',
  destination: {
    type: 'r2-data-catalog',
    format: 'iceberg',
    namespace: NAMESPACE,
    table: 'api_calls',
    partition: ['tenant_id', 'date'],
  },
  transform: `
SELECT
  event.event_id AS event_id,
  event.event_type AS event_type,
  event.request_id AS request_id,
  event.tenant_id AS tenant_id,
  event.route AS route,
  event.method AS method,
  event.status_code AS status_code,
  event.duration_ms AS duration_ms,
  event.api_key_id AS api_key_id,
  event.called_at AS called_at,
  CAST(event.called_at AS DATE) AS date
FROM source AS event
`.trim(),
});

/** The pipelines by stream name. */
export const pipelines: Readonly<Record<StreamName, PipelineDefinition>> = {
  orders: ordersPipeline,
  product_changes: productChangesPipeline,
  user_activity: userActivityPipeline,
  agent_decisions: agentDecisionsPipeline,
  sync_events: syncEventsPipeline,
  api_calls: apiCallsPipeline,
};

/** The pipeline that feeds a stream's table; throws `NOT_FOUND` for an unknown stream. */
export function pipelineFor(stream: string): PipelineDefinition {
  const p = (pipelines as Record<string, PipelineDefinition | undefined>)[stream];
  if (!p || !Object.hasOwn(pipelines, stream)) {
    throw new LakehouseError(
      'NOT_FOUND',
      `no pipeline for stream "${stream}"; streams with a pipeline: ${Object.keys(pipelines).join(', ')}`,
    );
  }
  return p;
}
