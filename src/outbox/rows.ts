import type { EventEnvelope } from '../domain/envelope.js';

/** An envelope as the JSON element the insert statements read with `jsonb_array_elements`. */
export function toRowJson(e: EventEnvelope, aggregateVersion?: number): Record<string, unknown> {
  return {
    event_id: e.event_id,
    stream: e.stream,
    partition_key: e.partition_key,
    event_type: e.event_type,
    tenant_id: e.tenant_id,
    occurred_at: e.occurred_at,
    schema_version: e.schema_version,
    payload: e.data,
    metadata: e.metadata,
    aggregate_type: e.aggregate?.type ?? null,
    aggregate_id: e.aggregate?.id ?? null,
    aggregate_version: aggregateVersion ?? null,
  };
}

/** Column list and SELECT list shared by the two insert statements (same order). */
export const EVENT_COLUMNS =
  'event_id, stream, partition_key, event_type, tenant_id, occurred_at, schema_version, payload, metadata';
export const EVENT_SELECT = `(e->>'event_id')::uuid, e->>'stream', e->>'partition_key', e->>'event_type',
  e->>'tenant_id', (e->>'occurred_at')::timestamptz, (e->>'schema_version')::int, e->'payload', e->'metadata'`;

/** A partition of a stream: the unit of ordered delivery. */
export interface PartitionRef {
  stream: string;
  partitionKey: string;
  /** The partition's lane, when known (emit returns it): the relay wakes the lane. */
  lane?: number;
}

/** Distinct partitions of a list of events, in first-seen order. */
export function partitionsOf(
  events: { stream: string; partition_key: string; lane?: number | null }[],
): PartitionRef[] {
  const seen = new Map<string, PartitionRef>();
  for (const e of events) {
    const k = `${e.stream}\u0000${e.partition_key}`;
    if (seen.has(k)) continue;
    const ref: PartitionRef = { stream: e.stream, partitionKey: e.partition_key };
    if (e.lane !== undefined && e.lane !== null) ref.lane = Number(e.lane);
    seen.set(k, ref);
  }
  return [...seen.values()];
}

/**
 * The CTE that queues inserted events (`ins`: position, stream, partition_key) in `pending`,
 * each in its partition's lane, returning the lanes. The lane count is read once per
 * statement (an InitPlan), the hash is an inlined SQL function.
 */
export function pendingInsert(s: string): string {
  return `INSERT INTO ${s}.pending (stream, lane, partition_key, position)
       SELECT stream, ${s}.lane_of(partition_key, (SELECT lane_count FROM ${s}.settings)), partition_key, position FROM ins
       RETURNING position, lane`;
}
