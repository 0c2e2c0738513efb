import { type Conn, type Lane, prepared } from './sql.js';

/** The advisory-lock class (`classid`) of a schema's lane locks; `status` reads `pg_locks` with it. */
export const laneLockClass = (schema: string) => `lakehouse:lane:${schema}`;

/**
 * One batch in flight per lane, whatever the number of relay processes: a lane is drained
 * only while holding a session-level advisory lock on it, on the very connection that
 * later marks its batches delivered.
 *
 * Why a session advisory lock: it needs no open transaction (no snapshot held across the
 * HTTP call, so vacuum is not held back), and it dies with the connection: a relay killed
 * with SIGKILL releases it at once, and a relay whose connection broke cannot mark
 * anything afterwards (the mark needs that same connection). This is why the relay needs a
 * direct or session-pooled connection (a transaction pooler would hand the lock's session
 * to someone else). The two-int form keys the lock by schema (classid) and lane (objid); a
 * hash collision only serializes two lanes, it never lets two holders in.
 */
export function lockKeys(schema: string, l: Lane): [string, string] {
  return [laneLockClass(schema), `${l.stream}/${l.lane}`];
}

export async function tryLockLane(conn: Conn, schema: string, l: Lane): Promise<boolean> {
  const { rows } = await conn.query<{ locked: boolean }>(
    prepared('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS locked', lockKeys(schema, l)),
  );
  return rows[0]?.locked === true;
}

export async function unlockLane(conn: Conn, schema: string, l: Lane): Promise<void> {
  await conn.query(prepared('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', lockKeys(schema, l)));
}

/**
 * Lets go of one lane and tries to lock the next in one round trip (a drain loop moving on).
 * Both are session locks of this connection, so their order within the statement does not
 * matter: nothing can be marked on `prev` any more once this is sent.
 */
export async function relockLane(conn: Conn, schema: string, prev: Lane, next: Lane): Promise<boolean> {
  const [cls, prevKey] = lockKeys(schema, prev);
  const { rows } = await conn.query<{ locked: boolean }>(
    prepared(
      `SELECT pg_advisory_unlock(hashtext($1), hashtext($2)) AS released,
              pg_try_advisory_lock(hashtext($1), hashtext($3)) AS locked`,
      [cls, prevKey, lockKeys(schema, next)[1]],
    ),
  );
  return rows[0]?.locked === true;
}
