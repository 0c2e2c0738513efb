import type { StreamName } from '../domain/catalog.js';
import type { PipelineDefinition } from './types.js';

/**
 * The six pipelines of the plan (Step 1), one per lake stream. Each keeps `event_id` and
 * `event_type` (the lake deduplicates on `event_id`) and derives its time partition columns.
 */
const define = (
  stream: StreamName,
  partition: string[],
  columns: string[],
  derived: string[],
  where = '',
): PipelineDefinition => ({
  name: `${stream}_events`,
  stream,
  source: 'http',
  destination: { type: 'r2-data-catalog', format: 'iceberg', namespace: 'lake', table: stream, partition },
  transform: `SELECT ${['event_id', 'event_type', ...columns].map((c) => `event.${c} AS ${c}`).join(', ')}${
    derived.length > 0 ? `, ${derived.join(', ')}` : ''
  } FROM source AS event${where ? ` WHERE ${where}` : ''}`,
});

export const pipelines: Record<StreamName, PipelineDefinition> = {
  orders: define(
    'orders',
    ['tenant_id', 'year', 'month'],
    [
      'order_id',
      'tenant_id',
      'site_id',
      'customer_id',
      'total_amount',
      'currency',
      'status',
      'payment_method',
      'item_count',
      'created_at',
    ],
    ['EXTRACT(YEAR FROM event.created_at) AS year', 'EXTRACT(MONTH FROM event.created_at) AS month'],
    'event.total_amount > 0',
  ),
  product_changes: define(
    'product_changes',
    ['tenant_id', 'year'],
    [
      'product_id',
      'tenant_id',
      'change_type',
      'old_price',
      'new_price',
      'old_stock',
      'new_stock',
      'changed_at',
    ],
    ['EXTRACT(YEAR FROM event.changed_at) AS year'],
  ),
  user_activity: define(
    'user_activity',
    ['tenant_id', 'date'],
    ['tenant_id', 'site_id', 'session_id', 'user_id', 'activity_type', 'path', 'search_query', 'occurred_at'],
    ['CAST(event.occurred_at AS DATE) AS date'],
  ),
  agent_decisions: define(
    'agent_decisions',
    ['tenant_id', 'agent_type'],
    [
      'decision_id',
      'tenant_id',
      'agent_type',
      'action',
      'input_summary',
      'outcome',
      'confidence',
      'model',
      'latency_ms',
      'decided_at',
    ],
    [],
  ),
  sync_events: define(
    'sync_events',
    ['tenant_id', 'source'],
    [
      'tenant_id',
      'source',
      'entity',
      'entity_id',
      'operation',
      'direction',
      'status',
      'error',
      'duration_ms',
      'synced_at',
    ],
    [],
  ),
  api_calls: define(
    'api_calls',
    ['tenant_id', 'date'],
    ['request_id', 'tenant_id', 'route', 'method', 'status_code', 'duration_ms', 'api_key_id', 'called_at'],
    ['CAST(event.called_at AS DATE) AS date'],
  ),
};
