import { toLakeRecord } from '../domain/envelope.js';
import { type Conn, type Partition, q } from './sql.js';

/** One event ready to send: its position and its lake record, serialized once. */
export interface BatchRecord {
  position: number;
  eventId: string;
  record: Record<string, unknown>;
  json: string;
  bytes: number;
}

export interface BatchLimits {
  maxRecords: number;
  /** Bound on the exact request body: `[` + records joined by `,` + `]`. */
  maxBytes: number;
}

/**
 * Reads the next batch of a partition: its committed pending events in `position` order.
 *
 * Why this is correct under concurrency (see ARCHITECTURE.md, "Order"): the read sees
 * only committed rows, and a row never leaves `pending` until the sink has acknowledged it,
 * so a row whose transaction commits later is read by a later batch: nothing is skipped
 * (no high-water mark to jump over it). Among committed rows, position order is the order
 * we promise: if T1 committed before T2 inserted, T1's positions are lower. The caller
 * holds the partition's advisory lock, so no other relay reads this partition meanwhile.
 *
 * Plan: an index range scan of the `pending` primary key (stream, partition_key, position)
 * with LIMIT, joined to `events` by primary key.
 */
export async function claimBatch(
  conn: Conn,
  schema: string,
  p: Partition,
  limits: BatchLimits,
): Promise<BatchRecord[]> {
  const s = q(schema);
  const { rows } = await conn.query<{
    position: string;
    event_id: string;
    event_type: string;
    payload: Record<string, unknown>;
  }>(
    `SELECT p.position, e.event_id::text AS event_id, e.event_type, e.payload
       FROM ${s}.pending p
       JOIN ${s}.events e ON e.position = p.position
      WHERE p.stream = $1 AND p.partition_key = $2
      ORDER BY p.position
      LIMIT $3`,
    [p.stream, p.partitionKey, limits.maxRecords],
  );
  const batch: BatchRecord[] = [];
  let bytes = 2; // [ and ]
  for (const r of rows) {
    const record = toLakeRecord({ event_id: r.event_id, event_type: r.event_type, data: r.payload as never });
    const json = JSON.stringify(record);
    const size = Buffer.byteLength(json, 'utf8');
    const added = size + (batch.length > 0 ? 1 : 0);
    if (batch.length > 0 && bytes + added > limits.maxBytes) break;
    bytes += added;
    batch.push({ position: Number(r.position), eventId: r.event_id, record, json, bytes: size });
  }
  return batch;
}

/** Exact body size of a batch as the HTTP sink sends it. */
export function bodyBytes(batch: readonly { bytes: number }[]): number {
  return batch.length === 0 ? 2 : 2 + batch.reduce((n, r) => n + r.bytes, 0) + batch.length - 1;
}
