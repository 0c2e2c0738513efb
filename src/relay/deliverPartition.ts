import type pg from 'pg';
import type { Logger } from 'pino';
import { type BatchRecord, bodyBytes, claimBatch } from './claimBatch.js';
import { markDelivered } from './markDelivered.js';
import type { RelayMetrics } from './metrics.js';
import type { ResolvedRelayOptions } from './options.js';
import { type ParkReason, parkRecords } from './parkRecords.js';
import { tryLockPartition, unlockPartition } from './partitionLock.js';
import {
  loadPartitionState,
  markAttempt,
  markBlocked,
  markFailed,
  recordError,
  scheduleRetry,
  setAttempted,
} from './partitionState.js';
import type { RateLimiter } from './rateLimiter.js';
import type { Sink, SinkOutcome } from './sink.js';
import { type Partition, partitionName } from './sql.js';

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
}

export type DrainOutcome =
  | { kind: 'drained'; delivered: number; parked: number; batches: number }
  /** Another relay holds this partition right now. */
  | { kind: 'busy' }
  /** Stopped at a poison record (`onPoison: 'block'`). */
  | { kind: 'blocked' }
  /** A failed batch waits for its slow retry. */
  | { kind: 'waiting' }
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

class Blocked extends Error {}
class Stopped extends Error {}

/**
 * Drains one partition: under its advisory lock, sends its pending events batch after
 * batch in position order until none is left, marking each batch delivered on the
 * lock-holding connection once the sink acknowledged it.
 *
 * - Retryable failures throw {@link RetryLater} (the BullMQ job retries with backoff; the
 *   partition stays at this batch, so order holds, while other partitions flow). On the
 *   job's last attempt (`lastAttempt`), the batch is parked as failed instead.
 * - Records the sink rejects (400/422) are isolated by splitting (or located directly when
 *   the sink names their indexes) and parked, or block the partition, per `onPoison`.
 * - Records that fail the sink's schema `check` are parked before sending.
 */
export async function drainPartition(
  ctx: DeliveryContext,
  p: Partition,
  opts: { lastAttempt: boolean },
): Promise<DrainOutcome> {
  const { options, logger } = ctx;
  const schema = options.schema;
  const so = options.stream(p.stream);
  const client = await ctx.pool.connect();
  const lost = new AbortController();
  let clientError: Error | undefined;
  const onError = (e: Error) => {
    clientError = e;
    lost.abort(e); // the lock died with the connection: stop sending at once
  };
  client.on('error', onError);
  const signal = AbortSignal.any([ctx.signal, lost.signal]);
  let locked = false;
  const log = logger.child({ stream: p.stream, partition: p.partitionKey });
  const stats = { delivered: 0, parked: 0, batches: 0 };
  try {
    locked = await tryLockPartition(client, schema, p);
    if (!locked) return { kind: 'busy' };
    const state = await loadPartitionState(client, schema, p);
    if (state.blockedPosition !== null) return { kind: 'blocked' };
    if (state.nextRetryAt !== null && !state.retryDue) return { kind: 'waiting' };
    let attemptedUpto = state.attemptedUpto ?? 0;

    const poison = async (records: BatchRecord[], reason: ParkReason, error: string) => {
      if (so.onPoison === 'block') {
        const first = records[0] as BatchRecord;
        await markBlocked(client, schema, p, first.position, `${reason}: event ${first.eventId}: ${error}`);
        log.error(
          { eventId: first.eventId, position: first.position, reason, error },
          'partition blocked at a poison record',
        );
        throw new Blocked();
      }
      const n = await parkRecords(
        client,
        schema,
        p,
        records.map((r) => r.position),
        reason,
        error,
      );
      stats.parked += n;
      ctx.metrics.parked.inc({ stream: p.stream, reason }, n);
      log.warn({ events: records.map((r) => r.eventId), reason, error }, 'parked poison records');
    };

    const send = async (records: BatchRecord[]): Promise<void> => {
      if (records.length === 0) return;
      if (signal.aborted || ctx.stopping()) throw new Stopped();
      const bytes = bodyBytes(records);
      await ctx.limiter.take(p.stream, bytes, so.rateLimitBytesPerSecond, so.maxBatchBytes, signal);
      const maxPos = records.reduce((m, r) => Math.max(m, r.position), 0);
      const resent = records.filter((r) => r.position <= attemptedUpto).length;
      const before = attemptedUpto;
      await markAttempt(client, schema, p, maxPos, resent);
      attemptedUpto = Math.max(attemptedUpto, maxPos);
      if (resent > 0) {
        ctx.metrics.resent.inc({ stream: p.stream }, resent);
        // At-least-once made visible: these may arrive twice (the lake deduplicates by event_id).
        log.warn(
          { resent, fromPosition: records[0]?.position, upTo: before },
          'resending events a previous attempt may have delivered',
        );
      }
      const started = performance.now();
      ctx.metrics.inFlight.inc();
      let outcome: SinkOutcome;
      try {
        outcome = await ctx.sink.send({ stream: p.stream, records: records.map((r) => r.json), signal });
      } finally {
        ctx.metrics.inFlight.dec();
      }
      ctx.metrics.batches.inc({ stream: p.stream, outcome: outcome.kind });
      const logFields = { batchSize: records.length, bytes, firstPosition: records[0]?.position };
      if (outcome.kind === 'ok') {
        await markDelivered(
          client,
          schema,
          p,
          records.map((r) => r.position),
          bytes,
        );
        stats.delivered += records.length;
        stats.batches++;
        ctx.metrics.delivered.inc({ stream: p.stream }, records.length);
        ctx.metrics.batchSeconds.observe({ stream: p.stream }, (performance.now() - started) / 1000);
        ctx.metrics.lastDelivery.set(Date.now() / 1000);
        log.debug(logFields, 'batch delivered');
        return;
      }
      if (signal.aborted || ctx.stopping()) throw new Stopped();
      // The sink stored nothing on these answers: the next send of these events is no duplicate.
      const surelyNotStored =
        outcome.kind !== 'retry' ||
        (!outcome.maybeDelivered && (outcome.status === undefined || outcome.status < 500));
      if (surelyNotStored && before < attemptedUpto) {
        await setAttempted(client, schema, p, before);
        attemptedUpto = before;
      }
      switch (outcome.kind) {
        case 'retry':
        case 'config': {
          await recordError(client, schema, p, outcome.error);
          ctx.metrics.failures.inc({ stream: p.stream, kind: outcome.kind });
          const level = outcome.kind === 'config' ? 'error' : 'warn';
          log[level](
            { ...logFields, error: outcome.error, status: outcome.status },
            `sink ${outcome.kind === 'config' ? 'configuration error (check URL and token)' : 'failure, will retry'}`,
          );
          throw new RetryLater(
            outcome.error,
            outcome.kind,
            outcome.kind === 'retry' ? outcome.retryAfterMs : undefined,
          );
        }
        case 'too_large':
        case 'rejected': {
          const reason: ParkReason = outcome.kind === 'too_large' ? 'too_large' : 'rejected';
          if (records.length === 1) return poison(records, reason, outcome.error);
          const idx =
            outcome.kind === 'rejected'
              ? outcome.recordIndexes?.filter((i) => i < records.length)
              : undefined;
          if (idx && idx.length > 0) {
            const i = idx[0] as number;
            await send(records.slice(0, i));
            await poison([records[i] as BatchRecord], reason, outcome.error);
            return send(records.slice(i + 1));
          }
          const mid = Math.ceil(records.length / 2);
          await send(records.slice(0, mid));
          return send(records.slice(mid));
        }
      }
    };

    /** Parks (or blocks at) records that the sink's schema check refuses, sending the good runs in order. */
    const deliver = async (batch: BatchRecord[]): Promise<void> => {
      let start = 0;
      for (let i = 0; i < batch.length; i++) {
        const r = batch[i] as BatchRecord;
        const problem = ctx.sink.check?.(p.stream, r.record);
        if (problem === undefined) continue;
        await send(batch.slice(start, i));
        await poison([r], 'schema', problem);
        start = i + 1;
      }
      await send(batch.slice(start));
    };

    for (;;) {
      if (ctx.stopping()) return { kind: 'stopped', delivered: stats.delivered };
      const batch = await claimBatch(client, schema, p, {
        maxRecords: so.maxBatchRecords,
        maxBytes: so.maxBatchBytes,
      });
      if (batch.length === 0) return { kind: 'drained', ...stats };
      await deliver(batch);
    }
  } catch (e) {
    if (e instanceof Blocked) return { kind: 'blocked' };
    if (e instanceof Stopped) return { kind: 'stopped', delivered: stats.delivered };
    if (e instanceof RetryLater && opts.lastAttempt && !clientError) {
      if (e.failure === 'config') {
        await scheduleRetry(client, schema, p, options.retry.configRetryMs);
      } else {
        await markFailed(client, schema, p, e.message, options.retry.failedRetryMs);
        ctx.metrics.failures.inc({ stream: p.stream, kind: 'failed' });
        log.error(
          { error: e.message, retryInMs: options.retry.failedRetryMs },
          'retry budget exhausted: batch parked as failed',
        );
      }
      return { kind: 'waiting' };
    }
    throw clientError ?? e;
  } finally {
    client.off('error', onError);
    if (locked && !clientError) {
      try {
        await unlockPartition(client, schema, p);
      } catch (e) {
        clientError = e as Error;
      }
    }
    // A broken connection is destroyed, never returned to the pool (its lock is gone anyway).
    client.release(clientError ?? undefined);
    if (clientError)
      log.warn(
        { error: clientError.message, partition: partitionName(p) },
        'database connection lost during delivery',
      );
  }
}
