import pg from 'pg';
import type { TestProject } from 'vitest/node';

/**
 * Finds the services once per run: `DATABASE_URL`/`REDIS_URL` when set; otherwise
 * containers through testcontainers when a Docker engine answers; otherwise the local
 * services at their default addresses. Also drops test schemas left by earlier runs
 * (a failed run leaves its schemas behind for inspection for two hours).
 */
declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    redisUrl: string;
  }
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export default async function setup(project: TestProject) {
  let databaseUrl = process.env.DATABASE_URL;
  let redisUrl = process.env.REDIS_URL;
  const stops: (() => Promise<unknown>)[] = [];
  if ((!databaseUrl || !redisUrl) && (await dockerAnswers())) {
    if (!databaseUrl) {
      const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
      const c = await new PostgreSqlContainer('postgres:15').start();
      databaseUrl = c.getConnectionUri();
      stops.push(() => c.stop());
    }
    if (!redisUrl) {
      const { RedisContainer } = await import('@testcontainers/redis');
      const c = await new RedisContainer('redis:7').start();
      redisUrl = c.getConnectionUrl();
      stops.push(() => c.stop());
    }
  }
  databaseUrl ??= 'postgres://postgres@127.0.0.1:5432/postgres';
  redisUrl ??= 'redis://127.0.0.1:6379';
  project.provide('databaseUrl', databaseUrl);
  project.provide('redisUrl', redisUrl);

  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ nspname: string }>(
    "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'lhtest\\_%'",
  );
  // Only schemas of runs older than two hours: runs in parallel (other checkouts) keep theirs.
  const cutoff = Date.now() / 1000 - 7200;
  for (const r of rows) {
    // lhtest_<stem>_<base36 time>_<hex>, optionally with a suffix such as the demo's `_app`.
    const m = /_([0-9a-z]+)_[0-9a-f]{6}(?:_[a-z]+)?$/.exec(r.nspname);
    const created = Number.parseInt(m?.[1] ?? '', 36);
    if (Number.isFinite(created) && created < cutoff) {
      await client.query(`DROP SCHEMA IF EXISTS "${r.nspname}" CASCADE`);
    }
  }
  await client.end();

  return async () => {
    for (const stop of stops) await stop();
  };
}
