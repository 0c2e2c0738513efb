import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { Redis } from 'ioredis';
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

/**
 * Drops what a test file created under its schema name: the schema, the schemas named after
 * it (the demo's `<schema>_app`, `<schema>_x`, ...) and its relay queue's Redis keys. Runs
 * from `close()`, which every file calls in `afterAll`, so also after a failed test.
 */
async function dropTestSchema(databaseUrl: string, redisUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $1 || '\\_%'",
      [schema],
    );
    for (const r of rows) await client.query(`DROP SCHEMA IF EXISTS "${r.nspname}" CASCADE`);
  } finally {
    await client.end();
  }
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `bull:lakehouse-relay-${schema}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis down: nothing of this test to clean there.
  } finally {
    redis.disconnect();
  }
}

/** A fresh migrated schema named after the test file; dropped (with its queue) by `close()`. */
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
    close: async () => {
      await pool.end();
      await dropTestSchema(databaseUrl, redisUrl, schema);
    },
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
