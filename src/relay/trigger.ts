import { Redis } from 'ioredis';
import { envConfig } from '../config.js';
import type { PartitionRef } from '../outbox/rows.js';
import type { Lane } from './sql.js';

/** The Redis channel on which the relays of an outbox hear wakes (named after their queue). */
export function wakeChannel(queuePrefix: string, queueName: string): string {
  return `${queuePrefix}:${queueName}:wake`;
}

export interface RelayTriggerOptions {
  redisUrl?: string;
  /** Outbox schema (names the queue). Default `LAKEHOUSE_DB_SCHEMA`. */
  schema?: string;
  queueName?: string;
  queuePrefix?: string;
  /** Give up on a wake after this many ms (the sweep finds the events anyway). Default 2,000. */
  timeoutMs?: number;
}

export interface RelayTrigger {
  /** Queues drain jobs for the lanes of partitions that got events. Call after COMMIT; never throws. */
  wake(partitions: PartitionRef[]): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Distinct wake targets: a lane when emit reported it, else the partition (the relay maps it
 * to its lane with the stored lane count).
 */
function wakeTargets(partitions: PartitionRef[]): Array<Lane | PartitionRef> {
  const seen = new Map<string, Lane | PartitionRef>();
  for (const p of partitions) {
    const key =
      p.lane === undefined
        ? `p\u0000${p.stream}\u0000${p.partitionKey}`
        : `l\u0000${p.stream}\u0000${p.lane}`;
    if (!seen.has(key)) seen.set(key, p.lane === undefined ? p : { stream: p.stream, lane: p.lane });
  }
  return [...seen.values()];
}

/**
 * Wakes the relays after a commit without slowing the transaction: one Redis `PUBLISH` of
 * the lanes (or partitions) that got events, on the outbox's wake channel. Every relay
 * process listening marks those lanes ready for its drain loops (the lane lock decides
 * which one drains each). No NOTIFY (it takes a global lock at commit), and no job per
 * commit: a queue job costs several Redis scripts and a round of bookkeeping in the relay
 * for what is only a hint. A wake that is lost (Redis down, no relay listening, a process
 * crash right after COMMIT) only delays delivery until the next sweep: correctness never
 * depends on it.
 */
export function createRelayTrigger(options: RelayTriggerOptions = {}): RelayTrigger {
  const env = envConfig();
  const schema = options.schema ?? env.schema;
  const connection = new Redis(options.redisUrl ?? env.redisUrl, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: false,
  });
  connection.on('error', () => {});
  const channel = wakeChannel(
    options.queuePrefix ?? 'bull',
    options.queueName ?? `lakehouse-relay-${schema}`,
  );
  const timeoutMs = options.timeoutMs ?? 2000;
  return {
    async wake(partitions) {
      if (partitions.length === 0) return true;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          connection.publish(channel, JSON.stringify(wakeTargets(partitions))),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
          }),
        ]);
        return true;
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      connection.disconnect();
    },
  };
}
