import { type Conn, type Lane, prepared, q } from './sql.js';

/**
 * Marks a batch delivered after the sink acknowledged it: deletes exactly the sent
 * positions from `pending` (never a range: a lower position whose transaction committed
 * after the claim is still undelivered), adds to the lane's counters, resets the head
 * batch's retry count and any failed state, and adds to the per-minute delivery log, all
 * in one statement (atomic, one round trip), on the connection that holds the lane lock.
 *
 * The commit does not wait for the WAL flush (`synchronous_commit = off` for this statement
 * only): the mark is the last step of a delivery, so if PostgreSQL itself crashed before
 * flushing it, the events are simply pending again with the lane's `attempted_upto` (written
 * with a flushed commit before the request) still set: they are sent again and counted as
 * resent, which is what at-least-once promises. A relay crash loses nothing (the commit
 * is done). This takes one disk flush per batch off the lane's path.
 */
export async function markDelivered(
  conn: Conn,
  schema: string,
  l: Lane,
  positions: number[],
  bytes: number,
): Promise<void> {
  const s = q(schema);
  await conn.query(
    prepared(
      `WITH del AS (
       DELETE FROM ${s}.pending
        WHERE stream = $1 AND lane = $2 AND position = ANY($3::bigint[])
       RETURNING 1
     ), n AS (SELECT count(*) AS n FROM del),
     upd AS (
       UPDATE ${s}.lanes
          SET delivered_count = delivered_count + (SELECT n FROM n), batch_count = batch_count + 1,
              last_delivered_at = now(), attempts = 0, failed_at = NULL, next_retry_at = NULL,
              -- One batch in flight per lane: once it is marked, nothing is maybe-stored any
              -- more. A lower position committed later (early transaction id) was never sent
              -- and must not count as a resend.
              attempted_upto = NULL
        WHERE stream = $1 AND lane = $2
     )
     INSERT INTO ${s}.delivery_log AS d (stream, minute, events, bytes)
     SELECT $1, date_trunc('minute', now()), n, $4
       FROM n, (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush_wait
     ON CONFLICT (stream, minute) DO UPDATE SET events = d.events + EXCLUDED.events, bytes = d.bytes + EXCLUDED.bytes`,
      [l.stream, l.lane, positions, bytes],
    ),
  );
}
