import { Redis } from 'ioredis';
import pg from 'pg';

/** Runs `fn` with one short-lived PostgreSQL connection that gives up after `timeoutMs`. */
export async function withPg<T>(
  databaseUrl: string,
  fn: (c: pg.Client) => Promise<T>,
  timeoutMs = 5000,
): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Runs `fn` with a Redis connection that does not retry: a probe must fail fast with the
 * connection error rather than wait in ioredis' offline queue.
 */
export async function withRedis<T>(
  redisUrl: string,
  fn: (r: Redis) => Promise<T>,
  timeoutMs = 3000,
): Promise<T> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  let lastError: unknown;
  redis.on('error', (e) => {
    lastError = e;
  });
  try {
    await redis.connect().catch((e) => {
      throw lastError ?? e;
    });
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}
