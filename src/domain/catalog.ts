import { z } from 'zod';
import { count, float, id, integer, money, nullable, tenantId, text, timestamp } from './fields.js';

/**
 * The lake streams: one zod schema per lake table, with the fields of the plan's table
 * design. A record of a stream is one row of its lake table (plus `event_id` and
 * `event_type`, which the envelope adds). Objects are strict: a field the lake has no
 * column for is an error, not silently dropped.
 */

export const ORDER_STATUSES = ['pending', 'placed', 'paid', 'fulfilled', 'cancelled', 'refunded'] as const;

export const ordersRecord = z.strictObject({
  order_id: id(),
  tenant_id: tenantId(),
  site_id: id(),
  customer_id: nullable(id()),
  total_amount: money(),
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR'),
  status: z.enum(ORDER_STATUSES),
  payment_method: nullable(text(64)),
  item_count: count(),
  created_at: timestamp(),
});

export const productChangesRecord = z.strictObject({
  product_id: id(),
  tenant_id: tenantId(),
  change_type: z.enum(['created', 'price', 'stock', 'price_and_stock', 'deleted']),
  old_price: nullable(money()),
  new_price: nullable(money()),
  old_stock: nullable(integer()),
  new_stock: nullable(integer()),
  changed_at: timestamp(),
});

export const userActivityRecord = z.strictObject({
  tenant_id: tenantId(),
  site_id: nullable(id()),
  session_id: id(),
  user_id: nullable(id()),
  activity_type: z.enum(['page_view', 'click', 'search', 'add_to_cart', 'checkout', 'login', 'logout']),
  path: nullable(text(2048)),
  search_query: nullable(text(512)),
  occurred_at: timestamp(),
});

export const agentDecisionsRecord = z.strictObject({
  decision_id: id(),
  tenant_id: tenantId(),
  agent_type: id(),
  action: text(256),
  input_summary: nullable(text(4096)),
  outcome: z.enum(['proposed', 'executed', 'rejected', 'failed']),
  confidence: nullable(float().min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1')),
  model: nullable(text(128)),
  latency_ms: nullable(integer(0)),
  decided_at: timestamp(),
});

export const syncEventsRecord = z.strictObject({
  tenant_id: tenantId(),
  source: id(),
  entity: z.enum(['product', 'order', 'customer', 'stock', 'category', 'price']),
  entity_id: id(),
  operation: z.enum(['create', 'update', 'delete', 'upsert']),
  direction: z.enum(['inbound', 'outbound']),
  status: z.enum(['success', 'failed', 'skipped']),
  error: nullable(text(4096)),
  duration_ms: nullable(integer(0)),
  synced_at: timestamp(),
});

export const apiCallsRecord = z.strictObject({
  request_id: id(),
  tenant_id: tenantId(),
  route: text(512),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']),
  status_code: integer(100, 599),
  duration_ms: float().min(0, 'must not be negative'),
  api_key_id: nullable(id()),
  called_at: timestamp(),
});

/** Definition of one lake stream. */
export interface StreamDefinition<Schema extends z.ZodObject = z.ZodObject> {
  /** Lake table and stream name (valid for Cloudflare: `^[a-zA-Z0-9_]+$`). */
  name: string;
  /** Zod schema of one record. */
  schema: Schema;
  /** Record field whose value orders delivery: events with the same value arrive in order. */
  partitionKey: string;
  /** Record field holding the business time of the event. */
  timeField: string;
  /** Event type used when the caller gives none. */
  defaultEventType: string;
  /** Version of the record schema, stored with every event. */
  schemaVersion: number;
  /** One line for humans. */
  description: string;
}

function defineStream<S extends z.ZodObject>(def: StreamDefinition<S>): StreamDefinition<S> {
  if (!/^[a-zA-Z0-9_]+$/.test(def.name)) throw new Error(`invalid stream name ${def.name}`);
  for (const f of [def.partitionKey, def.timeField]) {
    if (!(f in def.schema.shape)) throw new Error(`stream ${def.name}: ${f} is not a field`);
  }
  return def;
}

/** The six lake streams of the plan, by name. */
export const streams = {
  orders: defineStream({
    name: 'orders',
    schema: ordersRecord,
    partitionKey: 'tenant_id',
    timeField: 'created_at',
    defaultEventType: 'order.recorded',
    schemaVersion: 1,
    description: 'All order events: one row per change of an order, with its state after the change',
  }),
  product_changes: defineStream({
    name: 'product_changes',
    schema: productChangesRecord,
    partitionKey: 'tenant_id',
    timeField: 'changed_at',
    defaultEventType: 'product.changed',
    schemaVersion: 1,
    description: 'Product catalog changes: prices and stock',
  }),
  user_activity: defineStream({
    name: 'user_activity',
    schema: userActivityRecord,
    partitionKey: 'tenant_id',
    timeField: 'occurred_at',
    defaultEventType: 'activity.recorded',
    schemaVersion: 1,
    description: 'Page views, clicks and searches',
  }),
  agent_decisions: defineStream({
    name: 'agent_decisions',
    schema: agentDecisionsRecord,
    partitionKey: 'tenant_id',
    timeField: 'decided_at',
    defaultEventType: 'agent.decided',
    schemaVersion: 1,
    description: 'AI agent action log',
  }),
  sync_events: defineStream({
    name: 'sync_events',
    schema: syncEventsRecord,
    partitionKey: 'tenant_id',
    timeField: 'synced_at',
    defaultEventType: 'sync.recorded',
    schemaVersion: 1,
    description: 'Prestashop (and other) sync events',
  }),
  api_calls: defineStream({
    name: 'api_calls',
    schema: apiCallsRecord,
    partitionKey: 'tenant_id',
    timeField: 'called_at',
    defaultEventType: 'api.called',
    schemaVersion: 1,
    description: 'API usage metrics',
  }),
} as const;

export type Streams = typeof streams;
export type StreamName = keyof Streams;
/** A record of a stream as the caller gives it (optional fields may be left out). */
export type StreamInput<S extends StreamName> = z.input<Streams[S]['schema']>;
/** A record of a stream as stored and sent to the lake (normalized, nulls explicit). */
export type StreamRecord<S extends StreamName> = z.output<Streams[S]['schema']>;

export const STREAM_NAMES = Object.keys(streams) as StreamName[];

export function isStreamName(name: string): name is StreamName {
  return Object.hasOwn(streams, name);
}
