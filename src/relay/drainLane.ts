import type pg from 'pg';
import { createBatchSender, type LaneSession } from './batchSender.js';
import { claimBatch } from './claimBatch.js';
import { type DeliveryContext, type DrainOutcome, RetryLater, Stopped } from './context.js';
import { tryLockLane, unlockLane } from './laneLock.js';
import { countFailure, loadLaneState, markFailed, scheduleRetry } from './laneState.js';
import { delay } from './rateLimiter.js';
import { serverKeepalive } from './relayPool.js';
import { backoffMs } from './retryPolicy.js';
import type { Lane } from './sql.js';

interface OpenSession extends LaneSession {
  client: pg.PoolClient;
  /** Set when the connection broke: the lock is gone, nothing more may be marked. */
  lost: () => Error | undefined;
  detach: () => void;
}

/** Checks out a connection, watches it for errors (they abort the lane's requests at once). */
async function openSession(ctx: DeliveryContext, lane: Lane): Promise<OpenSession> {
  const client = await ctx.pool.connect();
  const lost = new AbortController();
  let clientError: Error | undefined;
  const onError = (e: Error) => {
    clientError = e;
    lost.abort(e); // the lock died with the connection: stop sending at once
  };
  client.on('error', onError);
  await serverKeepalive(client).catch((e) => onError(e as Error));
  return {
    client,
    conn: client,
    lane,
    signal: AbortSignal.any([ctx.signal, lost.signal]),
    log: ctx.logger.child({ stream: lane.stream, lane: lane.lane }),
    lost: () => clientError,
    detach: () => client.off('error', onError),
  };
}

/** Unlocks and returns the connection, or destroys it when it broke (its lock is gone anyway). */
async function closeSession(ctx: DeliveryContext, s: OpenSession, locked: boolean, failure?: Error) {
  s.detach();
  let broken = s.lost() ?? (isConnectionFailure(failure) ? failure : undefined);
  if (locked && !broken) {
    try {
      await unlockLane(s.client, ctx.options.schema, s.lane);
    } catch (e) {
      broken = e as Error;
    }
  }
  s.client.release(broken ?? undefined);
  if (broken) s.log.warn({ error: broken.message }, 'database connection lost during delivery');
}

/** A query timeout or a dead socket: the connection must not go back to the pool. */
function isConnectionFailure(e: Error | undefined): e is Error {
  if (!e || e instanceof RetryLater || e instanceof Stopped) return false;
  const m = e.message ?? '';
  return /timeout|Connection terminated|ECONNRESET|EPIPE|not queryable/i.test(m);
}

/**
 * Drains one lane: under its advisory lock, sends its pending events batch after batch in
 * position order (many partitions per request), marking each batch delivered on the
 * lock-holding connection once the sink acknowledged it. While the lane has work the
 * worker keeps it (no job per batch); when it runs dry it polls briefly before letting go,
 * unless other lanes wait for a worker. A lane held longer than `laneHoldMs` while others
 * wait is let go too (the job is re-queued), so lanes share workers fairly.
 *
 * A failure that is not about a record counts one attempt of the head batch in
 * PostgreSQL and schedules its retry with backoff; after the budget the batch is parked
 * as failed and the lane waits for its slow retry or a `replay` (order holds: nothing
 * behind it in the lane is sent).
 */
export async function drainLane(ctx: DeliveryContext, lane: Lane): Promise<DrainOutcome> {
  const s = await openSession(ctx, lane);
  let locked = false;
  let failure: Error | undefined;
  try {
    locked = await tryLockLane(s.conn, ctx.options.schema, lane);
    if (!locked) return { kind: 'busy' };
    return await runLane(ctx, s);
  } catch (e) {
    failure = e as Error;
    throw s.lost() ?? e;
  } finally {
    await closeSession(ctx, s, locked, failure);
  }
}

async function runLane(ctx: DeliveryContext, s: OpenSession): Promise<DrainOutcome> {
  const state = await loadLaneState(s.conn, ctx.options.schema, s.lane);
  if (state.retryInMs > 0) return { kind: 'waiting', retryInMs: state.retryInMs };
  const sender = createBatchSender(ctx, s, state.attemptedUpto ?? 0);
  try {
    await drainBatches(ctx, s, sender.deliver);
    return { kind: 'drained', ...sender.stats };
  } catch (e) {
    if (e instanceof Stopped) return { kind: 'stopped', delivered: sender.stats.delivered };
    if (e instanceof RetryLater && !s.lost()) return retryLater(ctx, s, e);
    throw e;
  }
}

/** The loop: claim, deliver, until the lane is dry (after a short poll) or it is time to let go. */
async function drainBatches(
  ctx: DeliveryContext,
  s: OpenSession,
  deliver: (batch: Awaited<ReturnType<typeof claimBatch>>) => Promise<void>,
): Promise<void> {
  const so = ctx.options.stream(s.lane.stream);
  const limits = { maxRecords: so.maxBatchRecords, maxBytes: so.maxBatchBytes };
  const heldSince = Date.now();
  let drySince: number | undefined;
  for (;;) {
    if (ctx.stopping() || s.signal.aborted) throw new Stopped();
    const batch = await claimBatch(s.conn, ctx.options.schema, s.lane, limits);
    if (batch.length > 0) {
      drySince = undefined;
      await deliver(batch);
      if (Date.now() - heldSince > ctx.options.laneHoldMs && (await ctx.othersWaiting())) return;
      continue;
    }
    drySince ??= Date.now();
    if (Date.now() - drySince >= ctx.options.lingerMs || (await ctx.othersWaiting())) return;
    await delay(ctx.options.lingerPollMs, s.signal).catch(() => {});
  }
}

/** Counts the failed attempt of the head batch and schedules its retry (or parks it as failed). */
async function retryLater(ctx: DeliveryContext, s: OpenSession, e: RetryLater): Promise<DrainOutcome> {
  const { retry, schema } = ctx.options;
  if (e.failure === 'config') {
    await scheduleRetry(s.conn, schema, s.lane, retry.configRetryMs, e.message);
    return { kind: 'waiting', retryInMs: retry.configRetryMs };
  }
  const attempts = await countFailure(s.conn, schema, s.lane, e.message);
  if (attempts >= retry.attempts) {
    await markFailed(s.conn, schema, s.lane, e.message, retry.failedRetryMs);
    ctx.metrics.failures.inc({ stream: s.lane.stream, kind: 'failed' });
    s.log.error(
      { error: e.message, attempts, retryInMs: retry.failedRetryMs },
      'retry budget exhausted: batch parked as failed (its lane waits)',
    );
    return { kind: 'waiting', retryInMs: retry.failedRetryMs };
  }
  const wait = backoffMs(retry, attempts, e.retryAfterMs);
  await scheduleRetry(s.conn, schema, s.lane, wait, e.message);
  s.log.debug({ attempts, retryInMs: wait }, 'batch will be retried');
  return { kind: 'waiting', retryInMs: wait };
}
