import type pg from 'pg';
import type { Logger } from 'pino';
import type { RelayMetrics } from './metrics.js';
import type { ResolvedRelayOptions } from './options.js';
import type { RateLimiter } from './rateLimiter.js';
import type { Sink } from './sink.js';

/** What a lane drain needs from the relay. */
export interface DeliveryContext {
  pool: pg.Pool;
  sink: Sink;
  options: ResolvedRelayOptions;
  limiter: RateLimiter;
  metrics: RelayMetrics;
  logger: Logger;
  /** Aborted when the relay stops (after its grace period): in-flight requests are cancelled. */
  signal: AbortSignal;
  /** True once the relay is stopping: no new batch starts. */
  stopping: () => boolean;
  /** True when other lanes wait for a drain loop of this process: a long-held lane lets go. */
  othersWaiting: () => boolean;
}

export type DrainOutcome =
  /** `more`: let go with work left (held `laneHoldMs` while other lanes waited). */
  | { kind: 'drained'; delivered: number; parked: number; batches: number; more: boolean }
  /** Another relay holds this lane right now. */
  | { kind: 'busy' }
  /** The head batch waits for a retry (backoff, configuration error, or parked as failed). */
  | { kind: 'waiting'; retryInMs: number }
  | { kind: 'stopped'; delivered: number };

/** A failure that is not about any record: retry the same batch later (order holds meanwhile). */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly failure: 'retry' | 'config',
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

/** The relay is stopping or lost its lane's connection: stop sending at once. */
export class Stopped extends Error {}
