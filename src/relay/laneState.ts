import { type Conn, type Lane, type Partition, prepared, q } from './sql.js';

/** What the relay keeps per lane in `lanes` (written only by the lane's lock holder). */
export interface LaneState {
  attemptedUpto: number | null;
  failed: boolean;
  /** Ms until the head batch's retry is due (0 when due now). */
  retryInMs: number;
}

/** The state columns of a `lanes` row (read under the lane's lock). */
export const STATE_COLUMNS = `attempted_upto, failed_at IS NOT NULL AS failed,
  greatest(0, ceil(extract(epoch FROM next_retry_at - now()) * 1000))::float8 AS retry_in_ms`;

/**
 * Reads the state row of a lane, creating it on the lane's first drain. Called once per
 * drain, under the lock; a plain read when the row exists (no write, no WAL flush per visit).
 */
export async function loadLaneState(conn: Conn, schema: string, l: Lane): Promise<LaneState> {
  const s = q(schema);
  let { rows } = await conn.query(`SELECT ${STATE_COLUMNS} FROM ${s}.lanes WHERE stream = $1 AND lane = $2`, [
    l.stream,
    l.lane,
  ]);
  if (rows.length === 0) {
    ({ rows } = await conn.query(
      `INSERT INTO ${s}.lanes AS la (stream, lane) VALUES ($1, $2)
       ON CONFLICT (stream, lane) DO UPDATE SET stream = la.stream
       RETURNING ${STATE_COLUMNS}`,
      [l.stream, l.lane],
    ));
  }
  return toLaneState(rows[0]);
}

export interface StateRow {
  attempted_upto: string | null;
  failed: boolean;
  retry_in_ms: number | null;
}

export function toLaneState(r: StateRow): LaneState {
  return {
    attemptedUpto: r.attempted_upto === null ? null : Number(r.attempted_upto),
    failed: r.failed,
    retryInMs: Number(r.retry_in_ms ?? 0),
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
  l: Lane,
  maxPosition: number,
  resent: number,
): Promise<void> {
  await conn.query(
    prepared(
      `UPDATE ${q(schema)}.lanes
        SET attempted_upto = GREATEST(coalesce(attempted_upto, 0), $3::bigint), resent_count = resent_count + $4
      WHERE stream = $1 AND lane = $2`,
      [l.stream, l.lane, maxPosition, resent],
    ),
  );
}

/** Restores `attempted_upto` after an answer that proves the sink stored nothing. */
export async function setAttempted(conn: Conn, schema: string, l: Lane, value: number): Promise<void> {
  await conn.query(`UPDATE ${q(schema)}.lanes SET attempted_upto = $3 WHERE stream = $1 AND lane = $2`, [
    l.stream,
    l.lane,
    value,
  ]);
}

/**
 * Counts a failed attempt of the lane's head batch and notes the error; returns the
 * attempts so far. The count is per batch: `markDelivered` resets it, so failures of
 * different batches never add up.
 */
export async function countFailure(conn: Conn, schema: string, l: Lane, error: string): Promise<number> {
  const { rows } = await conn.query<{ attempts: number }>(
    `UPDATE ${q(schema)}.lanes SET attempts = attempts + 1, last_error = $3, last_error_at = now()
      WHERE stream = $1 AND lane = $2 RETURNING attempts`,
    [l.stream, l.lane, error.slice(0, 2000)],
  );
  return Number(rows[0]?.attempts ?? 1);
}

/** Delays the lane's next drain (a backoff, or a configuration error), noting the error. */
export async function scheduleRetry(
  conn: Conn,
  schema: string,
  l: Lane,
  inMs: number,
  error: string,
): Promise<void> {
  await conn.query(
    `UPDATE ${q(schema)}.lanes SET next_retry_at = now() + make_interval(secs => $3::float8 / 1000),
            last_error = $4, last_error_at = now()
      WHERE stream = $1 AND lane = $2`,
    [l.stream, l.lane, inMs, error.slice(0, 2000)],
  );
}

/**
 * The retry budget of the head batch ran out: park the batch as failed. Its events stay
 * pending (order holds: nothing behind them in the lane is sent), the sweep skips the lane
 * until `next_retry_at`, and `lakehouse replay` clears it at once.
 */
export async function markFailed(
  conn: Conn,
  schema: string,
  l: Lane,
  error: string,
  retryInMs: number,
): Promise<void> {
  await conn.query(
    `UPDATE ${q(schema)}.lanes
        SET failed_at = coalesce(failed_at, now()), next_retry_at = now() + make_interval(secs => $4::float8 / 1000),
            last_error = $3, last_error_at = now()
      WHERE stream = $1 AND lane = $2`,
    [l.stream, l.lane, error.slice(0, 2000), retryInMs],
  );
}

/**
 * Stops a partition at a poison record (`onPoison: 'block'`) until an operator replays or
 * discards it. The lane's claims skip the partition's events from then on; its other
 * partitions keep flowing.
 */
export async function markBlocked(
  conn: Conn,
  schema: string,
  p: Partition,
  position: number,
  error: string,
): Promise<void> {
  await conn.query(
    `INSERT INTO ${q(schema)}.partitions AS pa (stream, partition_key, blocked_position, last_error, last_error_at)
     VALUES ($1, $2, $3, $4, now())
     ON CONFLICT (stream, partition_key) DO UPDATE
        SET blocked_position = EXCLUDED.blocked_position, last_error = EXCLUDED.last_error, last_error_at = now()`,
    [p.stream, p.partitionKey, position, error.slice(0, 2000)],
  );
}
