import type { EventEnvelope } from '../domain/envelope.js';
import { type Executor, ident } from './executor.js';
import { EVENT_COLUMNS, EVENT_SELECT, type PartitionRef, partitionsOf, toRowJson } from './rows.js';

/** What an emit wrote. */
export interface EmitResult {
  /** Events stored by this call. */
  written: number;
  /** `event_id`s that were already stored (not stored again). */
  duplicates: string[];
  /** Positions given to the stored events, in emit order. */
  positions: number[];
  /** Partitions that received new events: wake the relay for these after commit. */
  partitions: PartitionRef[];
}

/**
 * Inserts events into the outbox and its pending queue in ONE statement (one round trip
 * for any number of events), inside the caller's transaction.
 *
 * Why this is correct:
 * - `position` comes from an identity sequence at insert time, in `ord` order, so one
 *   call's events keep their emit order, and an event inserted after another transaction
 *   committed always gets a higher position than that transaction's events. The relay
 *   reads committed pending rows of a partition by position, which is exactly the order
 *   promised (ARCHITECTURE.md, "Order").
 * - `ON CONFLICT (event_id) DO NOTHING` makes emit idempotent; a concurrent insert of the
 *   same id waits for the other transaction and then skips. Only inserted rows enter
 *   `pending` (the CTE feeds it from RETURNING).
 * - Rolling back the caller's transaction removes both rows: no phantom can be relayed.
 */
export async function appendEvents(
  exec: Executor,
  schema: string,
  events: EventEnvelope[],
): Promise<EmitResult> {
  if (events.length === 0) return { written: 0, duplicates: [], positions: [], partitions: [] };
  const s = ident(schema);
  const rows = await exec<{ event_id: string; position: string }>(
    `WITH ins AS (
       INSERT INTO ${s}.events (${EVENT_COLUMNS})
       SELECT ${EVENT_SELECT}
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, ord)
       ORDER BY ord
       ON CONFLICT (event_id) DO NOTHING
       RETURNING position, event_id, stream, partition_key
     ), q AS (
       INSERT INTO ${s}.pending (stream, partition_key, position)
       SELECT stream, partition_key, position FROM ins
     )
     SELECT event_id::text AS event_id, position FROM ins ORDER BY position`,
    [JSON.stringify(events.map((e) => toRowJson(e)))],
  );
  const stored = new Set(rows.map((r) => r.event_id));
  const duplicates: string[] = [];
  const fresh: EventEnvelope[] = [];
  for (const e of events) {
    if (stored.has(e.event_id)) {
      fresh.push(e);
      stored.delete(e.event_id); // a repeated id inside one call counts once as written
    } else duplicates.push(e.event_id);
  }
  return {
    written: rows.length,
    duplicates,
    positions: rows.map((r) => Number(r.position)),
    partitions: partitionsOf(fresh),
  };
}
