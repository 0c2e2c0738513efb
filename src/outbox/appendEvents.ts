import type { EventEnvelope } from '../domain/envelope.js';
import { type Executor, ident } from './executor.js';
import {
  EVENT_COLUMNS,
  EVENT_SELECT,
  type PartitionRef,
  partitionsOf,
  pendingInsert,
  toRowJson,
} from './rows.js';

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
  const rows = await exec<{
    event_id: string;
    position: string;
    stream: string;
    partition_key: string;
    lane: number;
  }>(appendEventsSql(s), [JSON.stringify(events.map((e) => toRowJson(e)))]);
  const stored = new Set(rows.map((r) => r.event_id));
  const duplicates: string[] = [];
  for (const e of events) {
    if (stored.has(e.event_id))
      stored.delete(e.event_id); // a repeated id inside one call counts once as written
    else duplicates.push(e.event_id);
  }
  return {
    written: rows.length,
    duplicates,
    positions: rows.map((r) => Number(r.position)),
    partitions: partitionsOf(rows),
  };
}

/** The one statement of an emit: events, their pending rows and lanes (parameter $1: a JSON array). */
export function appendEventsSql(s: string): string {
  return `WITH ins AS (
       INSERT INTO ${s}.events (${EVENT_COLUMNS})
       SELECT ${EVENT_SELECT}
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, ord)
       ORDER BY ord
       ON CONFLICT (event_id) DO NOTHING
       RETURNING position, event_id, stream, partition_key
     ), q AS (${pendingInsert(s)})
     SELECT ins.event_id::text AS event_id, ins.position, ins.stream, ins.partition_key, q.lane
       FROM ins JOIN q ON q.position = ins.position ORDER BY ins.position`;
}
