import type { ResolvedRelayOptions } from './options.js';

/**
 * Backoff before the next attempt of a failing batch: exponential in the batch's own
 * failed attempts (not a job's), with jitter in the upper half, and never shorter than the
 * sink's `Retry-After`.
 */
export function backoffMs(retry: ResolvedRelayOptions['retry'], attempts: number, retryAfterMs = 0): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
  return Math.round(Math.max(jittered, retryAfterMs));
}
