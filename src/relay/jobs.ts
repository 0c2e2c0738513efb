import type { JobsOptions } from 'bullmq';
import type { Partition } from './sql.js';

export const DRAIN = 'drain';
export const SWEEP = 'sweep';

/**
 * The job id of a partition's drain job: while one exists (waiting, active, or delayed
 * for a retry), adding another for the same partition is a no-op. That deduplicates the
 * triggers of many writers and the sweep. It is an optimization only: the advisory lock
 * in PostgreSQL is what keeps one batch per partition in flight.
 */
export function drainJobId(p: Partition): string {
  return `drain-${Buffer.from(`${p.stream}\u0000${p.partitionKey}`).toString('base64url')}`;
}

export function drainJob(
  p: Partition,
  attempts: number,
): { name: string; data: Partition; opts: JobsOptions } {
  return {
    name: DRAIN,
    data: { stream: p.stream, partitionKey: p.partitionKey },
    opts: {
      jobId: drainJobId(p),
      attempts,
      backoff: { type: 'lakehouse' },
      removeOnComplete: true,
      removeOnFail: true,
    },
  };
}
