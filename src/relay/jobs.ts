import type { JobsOptions } from 'bullmq';
import { laneOf } from '../outbox/lanes.js';
import type { PartitionRef } from '../outbox/rows.js';
import type { Lane } from './sql.js';

export const DRAIN = 'drain';
export const SWEEP = 'sweep';

/**
 * The job id of a lane's drain job: while one exists (waiting, active, or delayed for a
 * retry), adding another for the same lane is a no-op. That deduplicates the triggers of
 * many writers and the sweep, and bounds the jobs by the number of lanes, not partitions.
 * It is an optimization only: the advisory lock in PostgreSQL is what keeps one batch per
 * lane in flight.
 */
export function drainJobId(l: Lane): string {
  return `lane-${Buffer.from(`${l.stream}\u0000${l.lane}`).toString('base64url')}`;
}

/** A partition's wake when its lane is not known (written by a writer of an older version). */
function partitionJobId(p: PartitionRef): string {
  return `drain-${Buffer.from(`${p.stream}\u0000${p.partitionKey}`).toString('base64url')}`;
}

/**
 * A drain job. One attempt: the retry budget and backoff of a failing batch live in
 * PostgreSQL (`lanes.attempts`, `lanes.next_retry_at`), so the trigger, the sweep and the
 * relay all agree on them whatever job options they were built with.
 */
export function drainJob(
  target: Lane | PartitionRef,
  delayMs = 0,
): { name: string; data: Lane | PartitionRef; opts: JobsOptions } {
  const isLane = 'lane' in target && typeof target.lane === 'number';
  const data: Lane | PartitionRef = isLane
    ? { stream: target.stream, lane: target.lane as number }
    : { stream: target.stream, partitionKey: (target as PartitionRef).partitionKey };
  return {
    name: DRAIN,
    data,
    opts: {
      // A delayed retry has an id of its own, so it never swallows a wake (and vice versa).
      jobId: `${isLane ? drainJobId(data as Lane) : partitionJobId(data as PartitionRef)}${delayMs > 0 ? '-retry' : ''}`,
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: true,
      ...(delayMs > 0 ? { delay: Math.ceil(delayMs) } : {}),
    },
  };
}

/** The lane a drain job is for (a partition's wake maps to its lane with the stored lane count). */
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
