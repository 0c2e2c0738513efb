import { sql } from 'drizzle-orm';
import {
  bigint,
  date,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * The outbox tables. drizzle-kit generates `drizzle/` from this file; the runtime queries
 * are plain SQL (one file per operation) so that the hot paths can be read and EXPLAINed.
 * The schema name `lakehouse` is rewritten to `LAKEHOUSE_DB_SCHEMA` when migrating.
 */
export const lakehouseSchema = pgSchema('lakehouse');

/**
 * Every event ever emitted (until pruned). `position` is taken at insert: it orders the
 * events of a partition among those committed (see ARCHITECTURE.md, "Order").
 *
 * The identity sequence behind `position` MUST keep `CACHE 1`: a cache hands each session
 * its own block of numbers, so a later insert could get a lower position than an earlier
 * committed one and be delivered out of order. `migrate` refuses a schema whose sequence
 * was altered (see `checkPositionSequence`).
 *
 * Indexes are kept to what the hot path needs: the primary key, `event_id` (idempotency),
 * the partial aggregate index (only aggregate rows enter it), and a BRIN index on
 * `created_at` for `prune` (a few pages, nearly free to maintain on append-only inserts).
 */
export const events = lakehouseSchema.table(
  'events',
  {
    position: bigint('position', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    eventId: uuid('event_id').notNull(),
    stream: text('stream').notNull(),
    partitionKey: text('partition_key').notNull(),
    eventType: text('event_type').notNull(),
    tenantId: text('tenant_id').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'string' }).notNull(),
    schemaVersion: integer('schema_version').notNull(),
    payload: jsonb('payload').notNull(),
    metadata: jsonb('metadata').notNull().default(sql`'{}'::jsonb`),
    aggregateType: text('aggregate_type'),
    aggregateId: text('aggregate_id'),
    aggregateVersion: integer('aggregate_version'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('events_event_id_key').on(t.eventId),
    uniqueIndex('events_aggregate_version_key')
      .on(t.aggregateType, t.aggregateId, t.aggregateVersion)
      .where(sql`aggregate_id IS NOT NULL`),
    index('events_created_at_brin').using('brin', t.createdAt),
  ],
);

/**
 * Undelivered events: a narrow queue that delivered rows leave by DELETE (about 4x cheaper
 * than flagging rows, see the reference on marking costs). An event is undelivered exactly
 * while its row is here or in `parked`.
 *
 * `lane` is `lane_of(partition_key, settings.lane_count)`: the relay drains a stream's lane
 * in position order across all its partitions, so the primary key leads with (stream, lane).
 */
export const pending = lakehouseSchema.table(
  'pending',
  {
    stream: text('stream').notNull(),
    lane: smallint('lane').notNull(),
    partitionKey: text('partition_key').notNull(),
    position: bigint('position', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.stream, t.lane, t.position] })],
);

/**
 * The outbox's stored settings (one row). `lane_count` is how many lanes each stream's
 * partition keys hash into; it is set by `migrate` and changes only while nothing is
 * pending (a key must never be in two lanes at once).
 */
export const settings = lakehouseSchema.table('settings', {
  id: smallint('id').primaryKey().default(1),
  laneCount: integer('lane_count').notNull().default(64),
});

/**
 * Delivery state of a lane, written only by the relay while it holds the lane's lock:
 * counters, the retry state of the lane's head batch, and what a resend duplicates.
 */
export const lanes = lakehouseSchema.table(
  'lanes',
  {
    stream: text('stream').notNull(),
    lane: integer('lane').notNull(),
    /** Highest position handed to the sink and not yet marked: what a resend duplicates. */
    attemptedUpto: bigint('attempted_upto', { mode: 'number' }),
    /** Failed attempts of the lane's current head batch (reset when a batch is delivered). */
    attempts: integer('attempts').notNull().default(0),
    /** Set when the head batch ran out of retries: the lane waits for `nextRetryAt` or a replay. */
    failedAt: timestamp('failed_at', { withTimezone: true, mode: 'string' }),
    nextRetryAt: timestamp('next_retry_at', { withTimezone: true, mode: 'string' }),
    deliveredCount: bigint('delivered_count', { mode: 'number' }).notNull().default(0),
    resentCount: bigint('resent_count', { mode: 'number' }).notNull().default(0),
    batchCount: bigint('batch_count', { mode: 'number' }).notNull().default(0),
    lastDeliveredAt: timestamp('last_delivered_at', { withTimezone: true, mode: 'string' }),
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true, mode: 'string' }),
  },
  (t) => [primaryKey({ columns: [t.stream, t.lane] })],
);

/** Events taken out of delivery: poison records (rejected by the sink or by the stream schema). */
export const parked = lakehouseSchema.table(
  'parked',
  {
    position: bigint('position', { mode: 'number' }).primaryKey(),
    stream: text('stream').notNull(),
    partitionKey: text('partition_key').notNull(),
    reason: text('reason').notNull(),
    error: text('error').notNull(),
    parkedAt: timestamp('parked_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [index('parked_stream_partition_idx').on(t.stream, t.partitionKey, t.position)],
);

/** Version of each event-sourced aggregate stream (optimistic concurrency). */
export const aggregateStreams = lakehouseSchema.table(
  'aggregate_streams',
  {
    streamType: text('stream_type').notNull(),
    streamId: text('stream_id').notNull(),
    version: integer('version').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.streamType, t.streamId] })],
);

/**
 * Per-partition state, written only by the relay (writers never touch it, so emitting takes
 * no lock on a per-tenant hot row). Since lanes (migration 0001) only `blocked_position`
 * and the error of a blocked partition are used; counters and retry state live in `lanes`.
 */
export const partitions = lakehouseSchema.table(
  'partitions',
  {
    stream: text('stream').notNull(),
    partitionKey: text('partition_key').notNull(),
    deliveredCount: bigint('delivered_count', { mode: 'number' }).notNull().default(0),
    resentCount: bigint('resent_count', { mode: 'number' }).notNull().default(0),
    batchCount: bigint('batch_count', { mode: 'number' }).notNull().default(0),
    lastDeliveredAt: timestamp('last_delivered_at', { withTimezone: true, mode: 'string' }),
    /** Highest position handed to the sink and not yet marked: what a resend duplicates. */
    attemptedUpto: bigint('attempted_upto', { mode: 'number' }),
    /** Set when the retry budget ran out: the partition waits for `nextRetryAt` or a replay. */
    failedAt: timestamp('failed_at', { withTimezone: true, mode: 'string' }),
    nextRetryAt: timestamp('next_retry_at', { withTimezone: true, mode: 'string' }),
    /** Set for `onPoison: 'block'` streams: delivery stops at this position until replay/discard. */
    blockedPosition: bigint('blocked_position', { mode: 'number' }),
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true, mode: 'string' }),
  },
  (t) => [
    primaryKey({ columns: [t.stream, t.partitionKey] }),
    index('partitions_blocked_idx').on(t.stream, t.partitionKey).where(sql`blocked_position IS NOT NULL`),
  ],
);

/** Events delivered per stream and minute, for "recent throughput" in status. */
export const deliveryLog = lakehouseSchema.table(
  'delivery_log',
  {
    stream: text('stream').notNull(),
    minute: timestamp('minute', { withTimezone: true, mode: 'string' }).notNull(),
    events: bigint('events', { mode: 'number' }).notNull().default(0),
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.stream, t.minute] })],
);

/**
 * What `prune` removed, per stream, tenant and UTC day of the stream's time field: events
 * delivered, events the pipeline's filter keeps (expected in the lake), the money sums over
 * those (decimal text per field, exact), and when their lanes last delivered. `prune` adds
 * to these rows in the statement that deletes the events, so reconcile's delivered side
 * (these rows plus the delivered events still stored) is the same before and after a prune.
 */
export const deliveredRollup = lakehouseSchema.table(
  'delivered_rollup',
  {
    stream: text('stream').notNull(),
    tenantId: text('tenant_id').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    delivered: bigint('delivered', { mode: 'number' }).notNull().default(0),
    expected: bigint('expected', { mode: 'number' }).notNull().default(0),
    sums: jsonb('sums').notNull().default(sql`'{}'::jsonb`),
    lastDeliveredAt: timestamp('last_delivered_at', { withTimezone: true, mode: 'string' }),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.stream, t.tenantId, t.day] })],
);
