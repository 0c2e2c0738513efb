import { type Conn, type Lane, q } from './sql.js';

/** Why an event was taken out of delivery. */
export type ParkReason = 'rejected' | 'schema' | 'too_large';

/**
 * Moves poison events from `pending` to `parked` with the error, in one statement: at
 * every moment an undelivered event is in exactly one of the two tables (retention relies
 * on it). The rest of the lane keeps flowing.
 */
export async function parkRecords(
  conn: Conn,
  schema: string,
  l: Lane,
  positions: number[],
  reason: ParkReason,
  error: string,
): Promise<number> {
  const s = q(schema);
  const { rows } = await conn.query<{ n: string }>(
    `WITH moved AS (
       DELETE FROM ${s}.pending WHERE stream = $1 AND lane = $2 AND position = ANY($3::bigint[])
       RETURNING partition_key, position
     ), ins AS (
       INSERT INTO ${s}.parked (position, stream, partition_key, reason, error)
       SELECT position, $1, partition_key, $4, $5 FROM moved
       ON CONFLICT (position) DO UPDATE SET reason = EXCLUDED.reason, error = EXCLUDED.error, parked_at = now()
       RETURNING 1
     )
     SELECT count(*) AS n FROM ins`,
    [l.stream, l.lane, positions, reason, error.slice(0, 2000)],
  );
  return Number(rows[0]?.n ?? 0);
}
