import { type Conn, type Lane, type Partition, q } from './sql.js';

export interface ReplayFilter {
  stream?: string;
  partitionKey?: string;
}

export interface ReplayResult {
  /** Parked events put back into delivery, per partition. */
  requeued: Array<Partition & { events: number }>;
  /**
   * Partitions resumed: those whose poison block was cleared, and, when a partition key
   * was given, that partition if its lane's failed batch was cleared.
   */
  resumed: Partition[];
  /** Lanes whose failed batch was cleared (a failed batch holds its whole lane). */
  resumedLanes: Lane[];
}

const MATCH = '($1::text IS NULL OR stream = $1) AND ($2::text IS NULL OR partition_key = $2)';

/**
 * Puts parked events back into delivery (each into its partition's lane) and clears failed
 * batches and poison blocks. Events keep their original positions, so within a partition
 * they are delivered in their original order, before anything that came after them. One
 * transaction: an event moves from `parked` to `pending` atomically (retention never sees
 * it in neither).
 */
export async function replay(conn: Conn, schema: string, filter: ReplayFilter): Promise<ReplayResult> {
  const s = q(schema);
  const params = [filter.stream ?? null, filter.partitionKey ?? null];
  const laneOf = (col: string) => `${s}.lane_of(${col}, (SELECT lane_count FROM ${s}.settings))`;
  await conn.query('BEGIN');
  try {
    const moved = await conn.query<{ stream: string; partition_key: string; n: string }>(
      `WITH moved AS (
         DELETE FROM ${s}.parked WHERE ${MATCH} RETURNING stream, partition_key, position
       ), ins AS (
         INSERT INTO ${s}.pending (stream, lane, partition_key, position)
         SELECT stream, ${laneOf('partition_key')}, partition_key, position FROM moved
         ON CONFLICT DO NOTHING
       )
       SELECT stream, partition_key, count(*) AS n FROM moved GROUP BY stream, partition_key ORDER BY 1, 2`,
      params,
    );
    const unblocked = await conn.query<{ stream: string; partition_key: string }>(
      `UPDATE ${s}.partitions SET blocked_position = NULL
        WHERE ${MATCH} AND blocked_position IS NOT NULL
        RETURNING stream, partition_key`,
      params,
    );
    const lanes = await conn.query<{ stream: string; lane: number }>(
      `UPDATE ${s}.lanes SET failed_at = NULL, next_retry_at = NULL, attempts = 0
        WHERE ($1::text IS NULL OR stream = $1) AND ($2::text IS NULL OR lane = ${laneOf('$2')})
          AND (failed_at IS NOT NULL OR next_retry_at IS NOT NULL)
        RETURNING stream, lane`,
      params,
    );
    await conn.query('COMMIT');
    return replayResult(filter, moved.rows, unblocked.rows, lanes.rows);
  } catch (e) {
    await conn.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

function replayResult(
  filter: ReplayFilter,
  moved: { stream: string; partition_key: string; n: string }[],
  unblocked: { stream: string; partition_key: string }[],
  lanes: { stream: string; lane: number }[],
): ReplayResult {
  const resumed = unblocked.map((r) => ({ stream: r.stream, partitionKey: r.partition_key }));
  if (filter.partitionKey !== undefined) {
    for (const l of lanes) {
      if (!resumed.some((p) => p.stream === l.stream))
        resumed.push({ stream: l.stream, partitionKey: filter.partitionKey });
    }
  }
  return {
    requeued: moved.map((r) => ({ stream: r.stream, partitionKey: r.partition_key, events: Number(r.n) })),
    resumed,
    resumedLanes: lanes.map((l) => ({ stream: l.stream, lane: Number(l.lane) })),
  };
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
       DELETE FROM ${s}.pending
        WHERE stream = $1 AND lane = ${s}.lane_of($2, (SELECT lane_count FROM ${s}.settings))
          AND position = (SELECT position FROM b)
     )
     SELECT position FROM b`,
    [p.stream, p.partitionKey],
  );
  return rows[0] ? { position: Number(rows[0].position) } : null;
}
