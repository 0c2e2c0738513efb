import { type Conn, type Partition, q } from './sql.js';

/**
 * The sweep: partitions that have pending events and may be drained now (not blocked at a
 * poison record, not waiting for a failed batch's slow retry). A recursive "skip scan"
 * over the `pending` primary key visits one index entry per partition instead of every
 * pending row, so the sweep stays cheap with a large backlog.
 */
export async function findPendingPartitions(
  conn: Conn,
  schema: string,
  limit = 10_000,
): Promise<Partition[]> {
  const s = q(schema);
  const { rows } = await conn.query<{ stream: string; partition_key: string }>(
    `WITH RECURSIVE t(stream, partition_key) AS (
       (SELECT stream, partition_key FROM ${s}.pending ORDER BY stream, partition_key LIMIT 1)
       UNION ALL
       SELECT n.stream, n.partition_key FROM t, LATERAL (
         SELECT p.stream, p.partition_key FROM ${s}.pending p
          WHERE (p.stream, p.partition_key) > (t.stream, t.partition_key)
          ORDER BY p.stream, p.partition_key LIMIT 1
       ) n
     )
     SELECT t.stream, t.partition_key FROM t
       LEFT JOIN ${s}.partitions pa ON pa.stream = t.stream AND pa.partition_key = t.partition_key
      WHERE pa.blocked_position IS NULL AND (pa.next_retry_at IS NULL OR pa.next_retry_at <= now())
      LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({ stream: r.stream, partitionKey: r.partition_key }));
}

/**
 * Whether anything is left to do: deliverable pending events (partitions not blocked and not
 * waiting on a failed batch) or batches in flight (partition locks held). Used by
 * `relay --until-idle`.
 */
export async function isIdle(conn: Conn, schema: string): Promise<boolean> {
  const s = q(schema);
  const { rows } = await conn.query<{ busy: boolean }>(
    `SELECT EXISTS (
              SELECT 1 FROM ${s}.pending pe
                LEFT JOIN ${s}.partitions pa ON pa.stream = pe.stream AND pa.partition_key = pe.partition_key
               WHERE pa.blocked_position IS NULL AND pa.failed_at IS NULL)
         OR EXISTS (
              SELECT 1 FROM pg_locks l
               WHERE l.locktype = 'advisory' AND l.granted
                 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND l.classid::bigint = (hashtext($1)::bigint & 4294967295)) AS busy`,
    [`lakehouse:partition:${schema}`],
  );
  return rows[0]?.busy === false;
}
