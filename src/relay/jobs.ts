import type { JobsOptions } from 'bullmq';
import { laneOf } from '../outbox/lanes.js';
import type { PartitionRef } from '../outbox/rows.js';
import type { Lane } from './sql.js';

export const DRAIN = 'drain';
export const SWEEP = 'sweep';

/**
 * The sweep's drain job for a lane: it only marks the lane ready in the relay process that
 * takes it (see `laneScheduler.ts`). Its id deduplicates the sweep's jobs while one waits,
 * bounding the jobs by the number of lanes. One attempt: the retry budget and backoff of a
 * failing batch live in PostgreSQL (`lanes.attempts`, `lanes.next_retry_at`).
 */
export function drainJob(l: Lane): { name: string; data: Lane; opts: JobsOptions } {
  return {
    name: DRAIN,
    data: { stream: l.stream, lane: l.lane },
    opts: {
      jobId: `lane-${Buffer.from(`${l.stream}\u0000${l.lane}`).toString('base64url')}`,
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: true,
    },
  };
}

/**
 * The lane a drain job or wake is for (a partition, from a writer of an older version that
 * did not know its lane, maps to its lane with the stored lane count).
 */
export function laneOfJob(data: Lane | PartitionRef, laneCount: number): Lane {
  if ('lane' in data && typeof data.lane === 'number') return { stream: data.stream, lane: data.lane };
  return { stream: data.stream, lane: laneOf((data as PartitionRef).partitionKey, laneCount) };
}

/** Distinct lanes of woken partitions. */
export function lanesOf(partitions: PartitionRef[], laneCount: number): Lane[] {
  const seen = new Map<string, Lane>();
  for (const p of partitions) {
    const l = laneOfJob(p, laneCount);
    seen.set(`${l.stream}\u0000${l.lane}`, l);
  }
  return [...seen.values()];
}
