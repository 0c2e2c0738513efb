import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/** Counts the relay processes alive now: the BullMQ workers connected to the relay's queue. */
export interface RelayLiveness {
  /** Relay workers connected, or null when Redis did not answer in time. */
  workers(): Promise<number | null>;
  close(): Promise<void>;
}

/**
 * A relay's BullMQ worker keeps a named Redis connection for as long as the process lives
 * (CLIENT LIST shows it; a killed relay's connection is gone), so the count is a heartbeat
 * that needs nothing from the relay itself. Connects on first use, never waits for Redis.
 */
export function createRelayLiveness(redisUrl: string, queueName: string, timeoutMs = 1500): RelayLiveness {
  let conn: { redis: Redis; queue: Queue } | undefined;
  const open = () => {
    if (conn) return conn;
    const redis = new Redis(redisUrl, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: timeoutMs,
    });
    redis.on('error', () => {});
    const queue = new Queue(queueName, { connection: redis });
    queue.on('error', () => {});
    conn = { redis, queue };
    return conn;
  };
  return {
    async workers() {
      let timer: NodeJS.Timeout | undefined;
      try {
        const { redis, queue } = open();
        if (redis.status !== 'ready') await redis.connect().catch(() => {});
        return await Promise.race([
          queue.getWorkersCount(),
          new Promise<null>((resolve) => {
            timer = setTimeout(() => resolve(null), timeoutMs);
          }),
        ]);
      } catch {
        return null;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (!conn) return;
      await conn.queue.close().catch(() => {});
      conn.redis.disconnect();
      conn = undefined;
    },
  };
}
