import { type Conn, type Partition, q } from './sql.js';

/** What the relay keeps per partition in `partitions` (written only by the relay). */
export interface PartitionState {
  attemptedUpto: number | null;
  failedAt: string | null;
  nextRetryAt: string | null;
  /** Set when the partition is stopped at a poison record (`onPoison: 'block'`). */
  blockedPosition: number | null;
  /** True when a failed partition's slow retry is due. */
  retryDue: boolean;
}

/** Reads (creating if needed) the state row of a partition. Called once per drain, under the lock. */
export async function loadPartitionState(conn: Conn, schema: string, p: Partition): Promise<PartitionState> {
  const s = q(schema);
  const { rows } = await conn.query(
    `INSERT INTO ${s}.partitions AS pa (stream, partition_key) VALUES ($1, $2)
     ON CONFLICT (stream, partition_key) DO UPDATE SET stream = pa.stream
     RETURNING attempted_upto, failed_at, next_retry_at, blocked_position,
               (next_retry_at IS NULL OR next_retry_at <= now()) AS retry_due`,
    [p.stream, p.partitionKey],
  );
  const r = rows[0];
  return {
    attemptedUpto: r.attempted_upto === null ? null : Number(r.attempted_upto),
    failedAt: r.failed_at,
    nextRetryAt: r.next_retry_at,
    blockedPosition: r.blocked_position === null ? null : Number(r.blocked_position),
    retryDue: r.retry_due,
  };
}

/**
 * Records that a batch is about to be sent: `attempted_upto` is written BEFORE the request,
 * so that after a crash between the sink's acknowledgement and the mark, the next drain
 * knows which events it sends again and counts them as resent (possible duplicates).
 */
export async function markAttempt(
  conn: Conn,
  schema: string,
  p: Partition,
  maxPosition: number,
  resent: number,
): Promise<void> {
  await conn.query(
    `UPDATE ${q(schema)}.partitions
        SET attempted_upto = GREATEST(coalesce(attempted_upto, 0), $3::bigint), resent_count = resent_count + $4
      WHERE stream = $1 AND partition_key = $2`,
    [p.stream, p.partitionKey, maxPosition, resent],
  );
}

/** Notes a failure that will be retried (shown by `status` as the partition's last error). */
export async function recordError(conn: Conn, schema: string, p: Partition, error: string): Promise<void> {
  await conn.query(
    `UPDATE ${q(schema)}.partitions SET last_error = $3, last_error_at = now() WHERE stream = $1 AND partition_key = $2`,
    [p.stream, p.partitionKey, error.slice(0, 2000)],
  );
}

/**
 * The retry budget ran out: park the batch as failed. Its events stay pending (order holds:
 * nothing behind them is sent), the sweep skips the partition until `next_retry_at`, and
 * `lakehouse replay` clears it at once.
 */
export async function markFailed(
  conn: Conn,
  schema: string,
  p: Partition,
  error: string,
  retryInMs: number,
): Promise<void> {
  await conn.query(
    `UPDATE ${q(schema)}.partitions
        SET failed_at = coalesce(failed_at, now()), next_retry_at = now() + make_interval(secs => $4::float8 / 1000),
            last_error = $3, last_error_at = now()
      WHERE stream = $1 AND partition_key = $2`,
    [p.stream, p.partitionKey, error.slice(0, 2000), retryInMs],
  );
}

/** Stops a partition at a poison record (`onPoison: 'block'`) until an operator replays or discards it. */
export async function markBlocked(
  conn: Conn,
  schema: string,
  p: Partition,
  position: number,
  error: string,
): Promise<void> {
  await conn.query(
    `UPDATE ${q(schema)}.partitions SET blocked_position = $3, last_error = $4, last_error_at = now()
      WHERE stream = $1 AND partition_key = $2`,
    [p.stream, p.partitionKey, position, error.slice(0, 2000)],
  );
}

/** Restores `attempted_upto` after an answer that proves the sink stored nothing. */
export async function setAttempted(conn: Conn, schema: string, p: Partition, value: number): Promise<void> {
  await conn.query(
    `UPDATE ${q(schema)}.partitions SET attempted_upto = $3 WHERE stream = $1 AND partition_key = $2`,
    [p.stream, p.partitionKey, value],
  );
}

/** Delays the next drain of a partition without marking it failed (configuration errors). */
export async function scheduleRetry(conn: Conn, schema: string, p: Partition, inMs: number): Promise<void> {
  await conn.query(
    `UPDATE ${q(schema)}.partitions SET next_retry_at = now() + make_interval(secs => $3::float8 / 1000)
      WHERE stream = $1 AND partition_key = $2`,
    [p.stream, p.partitionKey, inMs],
  );
}
