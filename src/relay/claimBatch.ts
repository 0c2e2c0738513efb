import { toLakeRecord } from '../domain/envelope.js';
import { type LaneState, STATE_COLUMNS, type StateRow, toLaneState } from './laneState.js';
import { type Conn, type Lane, prepared, q } from './sql.js';

/** One event ready to send: its position, partition and lake record, serialized once (the record object is not kept). */
export interface BatchRecord {
  position: number;
  partitionKey: string;
  eventId: string;
  /** What the sink's schema check found wrong with the record, if anything (checked at claim). */
  problem?: string;
  json: string;
  bytes: number;
  /** The trace context the event was emitted in (metadata), for the delivery span. */
  traceparent?: string | null;
  tracestate?: string | null;
}

/** A claimed batch; `full` when the lane may hold more (the batch reached a limit). */
export type ClaimedBatch = BatchRecord[] & { full: boolean };

/** The sink's check of one lake record (see `Sink.check`): a problem, or undefined. */
export type RecordCheck = (record: Record<string, unknown>) => string | undefined;

export interface BatchLimits {
  maxRecords: number;
  /** Bound on the exact request body: `[` + records joined by `,` + `]`. */
  maxBytes: number;
  /** Run on each record as it is built, so the record object need not outlive the claim. */
  check?: RecordCheck;
}

/**
 * Reads the next batch of a lane: its committed pending events in `position` order, from
 * every partition of the lane except those blocked at a poison record.
 *
 * Why this is correct under concurrency (see ARCHITECTURE.md, "Order"): the read sees
 * only committed rows, and a row never leaves `pending` until the sink has acknowledged it,
 * so a row whose transaction commits later is read by a later batch: nothing is skipped
 * (no high-water mark to jump over it). Among committed rows, position order is the order
 * we promise: if T1 committed before T2 inserted, T1's positions are lower. A partition
 * never changes lane and the caller holds the lane's advisory lock, so no other relay
 * reads any of these partitions meanwhile.
 *
 * Plan: an index range scan of the `pending` primary key (stream, lane, position) with
 * LIMIT, an anti-join probe of the partial index of blocked partitions per row, and a join
 * to `events` by primary key.
 */
export async function claimBatch(
  conn: Conn,
  schema: string,
  l: Lane,
  limits: BatchLimits,
): Promise<ClaimedBatch> {
  const { rows } = await conn.query<BatchRow>(
    prepared(batchSql(q(schema)), [l.stream, l.lane, limits.maxRecords]),
  );
  return toBatch(rows, limits);
}

/**
 * The first claim of a lane visit: the lane's state row (see `loadLaneState`) and its next
 * batch in one round trip. `state` is undefined when the lane has no state row yet (its
 * first drain ever creates it).
 */
export async function claimWithState(
  conn: Conn,
  schema: string,
  l: Lane,
  limits: BatchLimits,
): Promise<{ batch: ClaimedBatch; state: LaneState | undefined }> {
  const s = q(schema);
  const { rows } = await conn.query<BatchRow & StateRow & { has_state: boolean }>(
    prepared(
      `WITH st AS (SELECT ${STATE_COLUMNS} FROM ${s}.lanes WHERE stream = $1 AND lane = $2)
     SELECT st.*, st.retry_in_ms IS NOT NULL AS has_state, b.*
       FROM (SELECT 1) AS one
       LEFT JOIN st ON true
       LEFT JOIN LATERAL (${batchSql(s)}) b ON true`,
      [l.stream, l.lane, limits.maxRecords],
    ),
  );
  const first = rows[0];
  const state = first?.has_state ? toLaneState(first) : undefined;
  return { batch: toBatch(rows[0]?.position == null ? [] : rows, limits), state };
}

interface BatchRow {
  position: string;
  partition_key: string;
  event_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  traceparent: string | null;
  tracestate: string | null;
}

const batchSql = (s: string) =>
  `SELECT p.position, p.partition_key, e.event_id::text AS event_id, e.event_type, e.payload,
          e.metadata->>'traceparent' AS traceparent, e.metadata->>'tracestate' AS tracestate
     FROM ${s}.pending p
     JOIN ${s}.events e ON e.position = p.position
    WHERE p.stream = $1 AND p.lane = $2
      AND NOT EXISTS (SELECT 1 FROM ${s}.partitions b
                       WHERE b.stream = p.stream AND b.partition_key = p.partition_key
                         AND b.blocked_position IS NOT NULL)
    ORDER BY p.position
    LIMIT $3`;

/** Builds the lake records of claimed rows, cutting the batch at the byte limit. */
function toBatch(rows: BatchRow[], limits: BatchLimits): ClaimedBatch {
  const batch: ClaimedBatch = Object.assign([], { full: rows.length >= limits.maxRecords });
  let bytes = 2; // [ and ]
  for (const r of rows) {
    const record = toLakeRecord({ event_id: r.event_id, event_type: r.event_type, data: r.payload as never });
    const json = JSON.stringify(record);
    const size = Buffer.byteLength(json, 'utf8');
    const added = size + (batch.length > 0 ? 1 : 0);
    if (batch.length > 0 && bytes + added > limits.maxBytes) {
      batch.full = true; // cut by size: more is waiting
      break;
    }
    bytes += added;
    const problem = limits.check?.(record);
    batch.push({
      position: Number(r.position),
      partitionKey: r.partition_key,
      eventId: r.event_id,
      ...(problem === undefined ? {} : { problem }),
      json,
      bytes: size,
      traceparent: r.traceparent,
      tracestate: r.tracestate,
    });
  }
  return batch;
}

/** Exact body size of a batch as the HTTP sink sends it. */
export function bodyBytes(batch: readonly { bytes: number }[]): number {
  return batch.length === 0 ? 2 : 2 + batch.reduce((n, r) => n + r.bytes, 0) + batch.length - 1;
}
