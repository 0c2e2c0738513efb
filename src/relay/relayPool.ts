import pg from 'pg';
import type { Logger } from 'pino';
import { LakehouseError } from '../errors.js';
import type { ResolvedRelayOptions } from './options.js';

/**
 * The relay's PostgreSQL pool. Every connection uses TCP keepalive on both ends (the
 * client's socket option, and `tcp_keepalives_*` for the server's side of the session) and
 * a client-side query timeout, so a half-open connection fails within seconds: the relay
 * destroys it, and the server drops the session and with it the lane's advisory lock, so
 * another relay can take the lane over.
 */
export function createRelayPool(opts: ResolvedRelayOptions, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.concurrency + 3,
    keepAlive: true,
    keepAliveInitialDelayMillis: 5_000,
    query_timeout: opts.queryTimeoutMs,
    connectionTimeoutMillis: Math.min(opts.queryTimeoutMs, 10_000),
  });
  pool.on('error', (e) => logger.warn({ error: e.message }, 'idle database connection lost'));
  // A client whose connection dies emits 'error', possibly more than once and while it is
  // checked out; unhandled, that would crash the process. The failing query reports the
  // error where it matters, so every client gets one no-op listener when it connects.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

const keepaliveSet = new WeakSet<pg.PoolClient>();

/**
 * Makes the server probe the session of a lane-holding connection after 5 s of silence
 * (then every 2 s, 3 times), so a session whose client vanished ends, and its lane lock
 * with it, in about 11 s instead of the kernel default of hours. Once per connection.
 */
export async function serverKeepalive(client: pg.PoolClient): Promise<void> {
  if (keepaliveSet.has(client)) return;
  await client.query(
    'SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3',
  );
  keepaliveSet.add(client);
}

/**
 * Refuses a transaction pooler (PgBouncer in transaction mode) where it can tell: on one
 * checked-out client, consecutive statements outside a transaction must run in the same
 * server session. Through a transaction pooler they may not, and then the lane locks
 * (session advisory locks) would not hold. A pooler that happens to keep the session is not
 * detected; the README states the requirement.
 */
export async function assertSessionConnection(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    const pids = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      pids.add(Number(rows[0]?.pid));
    }
    if (pids.size > 1) {
      throw new LakehouseError(
        'CONFIG',
        'DATABASE_URL of the relay goes through a transaction pooler (consecutive statements ran in different ' +
          'server sessions): the relay needs a direct or session-pooled connection for its lane locks',
      );
    }
  } finally {
    client.release();
  }
}
