import type { Conn, Partition } from './sql.js';

/**
 * One batch in flight per partition, whatever the number of relay processes: delivery of a
 * partition happens only while holding a session-level advisory lock on it, on the very
 * connection that later marks the batch delivered.
 *
 * Why a session advisory lock: it needs no open transaction (no snapshot held across the
 * HTTP call, so vacuum is not held back), and it dies with the connection: a relay killed
 * with SIGKILL releases it at once, and a relay whose connection broke cannot mark
 * anything afterwards (the mark needs that same connection). The two-int form keys the
 * lock by schema (classid) and partition (objid); `lakehouse status` reads `pg_locks` with
 * the same keys to count batches in flight. A hash collision only serializes two
 * partitions, it never lets two holders in.
 */
export function lockKeys(schema: string, p: Partition): [string, string] {
  return [`lakehouse:partition:${schema}`, `${p.stream}/${p.partitionKey}`];
}

export async function tryLockPartition(conn: Conn, schema: string, p: Partition): Promise<boolean> {
  const { rows } = await conn.query<{ locked: boolean }>(
    'SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked',
    lockKeys(schema, p),
  );
  return rows[0]?.locked === true;
}

export async function unlockPartition(conn: Conn, schema: string, p: Partition): Promise<void> {
  await conn.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', lockKeys(schema, p));
}
