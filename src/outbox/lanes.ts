import { createHash } from 'node:crypto';

/** Lanes per stream when `migrate` is not told otherwise. */
export const DEFAULT_LANE_COUNT = 64;

/**
 * The lane of a partition key: the first 32 bits of its md5, unsigned, modulo the lane
 * count. The same as the SQL function `lane_of(key, lanes)` of the outbox schema (md5 is
 * stable across PostgreSQL versions and platforms, unlike `hashtext`), so a key is in the
 * same lane whoever computes it.
 */
export function laneOf(partitionKey: string, laneCount: number): number {
  return createHash('md5').update(partitionKey, 'utf8').digest().readUInt32BE(0) % laneCount;
}
