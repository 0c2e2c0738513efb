import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PartitionRef } from '../outbox/rows.js';
import { laneOfJob } from './jobs.js';
import type { Lane } from './sql.js';
import { wakeChannel } from './trigger.js';

/**
 * The wake targets of one published message: lanes (`{stream, lane}`) or partitions
 * (`{stream, partitionKey}`, from a writer that did not know the lane). Anything else in
 * the message is ignored: a wake is only a hint.
 */
export function parseWake(message: string): Array<Lane | PartitionRef> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter(
    (t): t is Lane | PartitionRef =>
      typeof t === 'object' &&
      t !== null &&
      typeof t.stream === 'string' &&
      ((Number.isInteger(t.lane) && t.lane >= 0) || typeof t.partitionKey === 'string'),
  );
}

/**
 * Listens on the outbox's wake channel (see `createRelayTrigger`) with its own Redis
 * connection (a subscribed connection can do nothing else) and hands each woken lane to
 * `onLanes`. Resubscribes by itself after a reconnect (ioredis).
 */
export async function listenForWakes(
  subscriber: Redis,
  queue: { prefix: string; name: string },
  laneCount: () => number,
  onLanes: (lanes: Lane[]) => void,
  logger: Logger,
): Promise<void> {
  const channel = wakeChannel(queue.prefix, queue.name);
  subscriber.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    onLanes(parseWake(message).map((t) => laneOfJob(t, laneCount())));
  });
  try {
    await subscriber.subscribe(channel);
  } catch (e) {
    logger.warn(
      { error: (e as Error).message },
      'could not listen for wakes yet; the sweep finds the events',
    );
  }
}
