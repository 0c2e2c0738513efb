import { laneLockClass } from './laneLock.js';
import { type Conn, type Lane, q } from './sql.js';

/** True for a pending row `p` whose partition is blocked at a poison record (partial-index probe). */
const blocked = (s: string) =>
  `EXISTS (SELECT 1 FROM ${s}.partitions b WHERE b.stream = p.stream AND b.partition_key = p.partition_key
                                           AND b.blocked_position IS NOT NULL)`;

/**
 * The sweep: lanes that have deliverable pending events, and whether each may be drained
 * now (not waiting for a retry). A recursive "skip scan" over the `pending` primary key visits one
 * index entry per (stream, lane), so its cost depends on the number of lanes, never on the
 * number of partitions or pending rows, and it is not capped: every such lane is returned.
 * Only a lane whose head is all blocked partitions costs more (its blocked rows are read
 * until a deliverable one is found).
 */
export async function findPendingLanes(conn: Conn, schema: string): Promise<PendingLane[]> {
  const s = q(schema);
  const { rows } = await conn.query<{ stream: string; lane: number; due: boolean; failed: boolean }>(
    `WITH RECURSIVE t(stream, lane) AS (
       (SELECT stream, lane FROM ${s}.pending ORDER BY stream, lane LIMIT 1)
       UNION ALL
       SELECT n.stream, n.lane FROM t, LATERAL (
         SELECT p.stream, p.lane FROM ${s}.pending p
          WHERE (p.stream, p.lane) > (t.stream, t.lane)
          ORDER BY p.stream, p.lane LIMIT 1
       ) n
     )
     SELECT t.stream, t.lane, (la.next_retry_at IS NULL OR la.next_retry_at <= now()) AS due,
            la.failed_at IS NOT NULL AS failed
       FROM t LEFT JOIN ${s}.lanes la ON la.stream = t.stream AND la.lane = t.lane
      WHERE EXISTS (SELECT 1 FROM ${s}.pending p WHERE p.stream = t.stream AND p.lane = t.lane AND NOT ${blocked(s)})`,
  );
  return rows.map((r) => ({ stream: r.stream, lane: Number(r.lane), due: r.due, failed: r.failed === true }));
}

/** A lane with deliverable pending events, as the sweep finds it. */
export interface PendingLane extends Lane {
  /** Its retry (if any) is due: drain it now. */
  due: boolean;
  /** Its head batch is parked as failed (retried slowly or on replay). */
  failed: boolean;
}

/**
 * Whether anything is left to do: deliverable pending events (in lanes not parked as
 * failed, of partitions not blocked) or batches in flight (lane locks held). Used by
 * `relay --until-idle`. Stops at the first deliverable row, so it costs the same with 10
 * or 100,000 partitions.
 */
export async function isIdle(conn: Conn, schema: string): Promise<boolean> {
  const s = q(schema);
  const { rows } = await conn.query<{ busy: boolean }>(
    `SELECT EXISTS (
              SELECT 1 FROM ${s}.pending p
                LEFT JOIN ${s}.lanes la ON la.stream = p.stream AND la.lane = p.lane
               WHERE la.failed_at IS NULL AND NOT ${blocked(s)})
         OR EXISTS (
              SELECT 1 FROM pg_locks l
               WHERE l.locktype = 'advisory' AND l.granted
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND l.classid::bigint = (hashtext($1)::bigint & 4294967295)) AS busy`,
    [laneLockClass(schema)],
  );
  return rows[0]?.busy === false;
}

/** A lane whose head batch ran out of retries. */
export interface FailedLane extends Lane {
  pending: number;
  /** A few of the partition keys held in the lane (up to 5). */
  partitionKeys: string[];
  /** The lane holds events of more partitions than `partitionKeys` names. */
  morePartitions: boolean;
  error: string | null;
}

/** Lanes parked as failed, with what they hold (for `relay --until-idle` and operators). */
export async function failedLanes(conn: Conn, schema: string): Promise<FailedLane[]> {
  const s = q(schema);
  const { rows } = await conn.query<{
    stream: string;
    lane: number;
    pending: string;
    keys: string[] | null;
    last_error: string | null;
  }>(
    `SELECT la.stream, la.lane, la.last_error,
            (SELECT count(*) FROM ${s}.pending p WHERE p.stream = la.stream AND p.lane = la.lane) AS pending,
            ARRAY(SELECT DISTINCT k.partition_key FROM (
                    SELECT partition_key FROM ${s}.pending p WHERE p.stream = la.stream AND p.lane = la.lane
                     ORDER BY position LIMIT 100) k LIMIT 6) AS keys
       FROM ${s}.lanes la WHERE la.failed_at IS NOT NULL ORDER BY la.stream, la.lane`,
  );
  return rows.map((r) => ({
    stream: r.stream,
    lane: Number(r.lane),
    pending: Number(r.pending),
    partitionKeys: (r.keys ?? []).slice(0, 5),
    morePartitions: (r.keys ?? []).length > 5 || (Number(r.pending) > 100 && (r.keys ?? []).length >= 5),
    error: r.last_error,
  }));
}
