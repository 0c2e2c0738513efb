import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { migrate } from '../../src/outbox/migrate.js';
import { createOutbox, type Outbox } from '../../src/outbox/outbox.js';

export interface TestDb {
  databaseUrl: string;
  redisUrl: string;
  /** The schema of this test (own tables, isolated from other files running in parallel). */
  schema: string;
  pool: pg.Pool;
  outbox: Outbox;
  /** Environment for child processes (CLI, relay) pointing at this schema. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

/** A fresh migrated schema named after the test file; left in place for inspection. */
export async function createTestDb(testFile: string): Promise<TestDb> {
  const databaseUrl = inject('databaseUrl');
  const redisUrl = inject('redisUrl');
  const stem = basename(testFile)
    .replace(/\..*$/, '')
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30);
  // The creation time (base 36 seconds) lets a later run drop only stale schemas.
  const schema = `lhtest_${stem.slice(0, 22)}_${Math.floor(Date.now() / 1000).toString(36)}_${randomBytes(3).toString('hex')}`;
  await migrate(databaseUrl, { schema });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 20 });
  pool.on('error', () => {});
  return {
    databaseUrl,
    redisUrl,
    schema,
    pool,
    outbox: createOutbox({ schema }),
    env: { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, LAKEHOUSE_DB_SCHEMA: schema },
    close: () => pool.end(),
  };
}

/** Runs `fn` in a transaction on one client of the pool; rolls back if it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const r = await fn(client);
    await client.query('COMMIT');
    return r;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
