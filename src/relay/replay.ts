import { type Conn, type Partition, q } from './sql.js';

export interface ReplayFilter {
  stream?: string;
  partitionKey?: string;
}

export interface ReplayResult {
  /** Parked events put back into delivery, per partition. */
  requeued: Array<Partition & { events: number }>;
  /** Partitions whose failed batch (or poison block) was cleared. */
  resumed: Partition[];
}

/**
 * Puts parked events back into delivery and clears failed batches and poison blocks.
 * Events keep their original positions, so within a partition they are delivered in
 * their original order, before anything that came after them. One transaction: an event
 * moves from `parked` to `pending` atomically (retention never sees it in neither).
 */
export async function replay(conn: Conn, schema: string, filter: ReplayFilter): Promise<ReplayResult> {
  const s = q(schema);
  const params = [filter.stream ?? null, filter.partitionKey ?? null];
  const match = '($1::text IS NULL OR stream = $1) AND ($2::text IS NULL OR partition_key = $2)';
  await conn.query('BEGIN');
  try {
    const moved = await conn.query<{ stream: string; partition_key: string; n: string }>(
      `WITH moved AS (
         DELETE FROM ${s}.parked WHERE ${match} RETURNING stream, partition_key, position
       ), ins AS (
         INSERT INTO ${s}.pending (stream, partition_key, position)
         SELECT stream, partition_key, position FROM moved
         ON CONFLICT DO NOTHING
       )
       SELECT stream, partition_key, count(*) AS n FROM moved GROUP BY stream, partition_key ORDER BY 1, 2`,
      params,
    );
    const resumed = await conn.query<{ stream: string; partition_key: string }>(
      `UPDATE ${s}.partitions SET failed_at = NULL, next_retry_at = NULL, blocked_position = NULL
        WHERE ${match} AND (failed_at IS NOT NULL OR next_retry_at IS NOT NULL OR blocked_position IS NOT NULL)
        RETURNING stream, partition_key`,
      params,
    );
    await conn.query('COMMIT');
    return {
      requeued: moved.rows.map((r) => ({
        stream: r.stream,
        partitionKey: r.partition_key,
        events: Number(r.n),
      })),
      resumed: resumed.rows.map((r) => ({ stream: r.stream, partitionKey: r.partition_key })),
    };
  } catch (e) {
    await conn.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/**
 * Discards the poison record a blocked partition stopped at (`onPoison: 'block'`): it leaves
 * delivery for good (the event row stays until pruned) and the partition flows again.
 */
export async function discardBlocked(
  conn: Conn,
  schema: string,
  p: Partition,
): Promise<{ position: number } | null> {
  const s = q(schema);
  const { rows } = await conn.query<{ position: string }>(
    `WITH b AS (
       UPDATE ${s}.partitions SET blocked_position = NULL
        WHERE stream = $1 AND partition_key = $2 AND blocked_position IS NOT NULL
        RETURNING (SELECT blocked_position FROM ${s}.partitions WHERE stream = $1 AND partition_key = $2) AS position
     ), d AS (
       DELETE FROM ${s}.pending WHERE stream = $1 AND partition_key = $2 AND position = (SELECT position FROM b)
     )
     SELECT position FROM b`,
    [p.stream, p.partitionKey],
  );
  return rows[0] ? { position: Number(rows[0].position) } : null;
}
