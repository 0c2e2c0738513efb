import type pg from 'pg';
import type { Logger } from 'pino';
import { createBatchSender, type LaneSession } from './batchSender.js';
import { type BatchLimits, type ClaimedBatch, claimBatch, claimWithState } from './claimBatch.js';
import { type DeliveryContext, type DrainOutcome, RetryLater, Stopped } from './context.js';
import { tryLockLane, unlockLane } from './laneLock.js';
import { countFailure, loadLaneState, markFailed, scheduleRetry } from './laneState.js';
import { serverKeepalive } from './relayPool.js';
import { backoffMs } from './retryPolicy.js';
import type { Lane } from './sql.js';

/** A worker's database session: one connection that takes, drains and lets go of lanes in turn. */
export interface WorkerSession {
  client: pg.PoolClient;
  signal: AbortSignal;
  log: Logger;
  /** Set when the connection broke: its locks are gone, nothing more may be marked. */
  lost: () => Error | undefined;
  /** Notes that the connection must not be reused (a timeout, or a lock that could not be released). */
  broke: (e: Error) => void;
  detach: () => void;
}

/** Checks out a connection, watches it for errors (they abort the lane's requests at once). */
export async function openSession(ctx: DeliveryContext): Promise<WorkerSession> {
  const client = await ctx.pool.connect();
  const lost = new AbortController();
  let clientError: Error | undefined;
  const onError = (e: Error) => {
    clientError = e;
    lost.abort(e); // the locks died with the connection: stop sending at once
  };
  client.on('error', onError);
  await serverKeepalive(client).catch((e) => onError(e as Error));
  return {
    client,
    signal: AbortSignal.any([ctx.signal, lost.signal]),
    log: ctx.logger,
    lost: () => clientError,
    broke: onError,
    detach: () => client.off('error', onError),
  };
}

/** Returns the connection, or destroys it when it broke (its locks are gone anyway). */
export function closeSession(s: WorkerSession): void {
  s.detach();
  const broken = s.lost();
  s.client.release(broken ?? undefined);
  if (broken) s.log.warn({ error: broken.message }, 'database connection lost during delivery');
}

/** A query timeout or a dead socket: the connection must not go back to the pool. */
export function isConnectionFailure(e: Error | undefined): e is Error {
  if (!e || e instanceof RetryLater || e instanceof Stopped) return false;
  const m = e.message ?? '';
  return /timeout|Connection terminated|ECONNRESET|EPIPE|not queryable/i.test(m);
}

/**
 * Drains one lane on a worker's session: under its advisory lock, sends its pending events
 * batch after batch in position order (many partitions per request), marking each batch
 * delivered on the lock-holding connection once the sink acknowledged it, until the lane
 * runs dry. A lane held longer than `laneHoldMs` while other lanes wait is let go, so lanes
 * share workers fairly. Returns `busy` when another worker or relay holds the lane.
 *
 * The lane stays locked when this returns (the caller lets go of it, usually in the same
 * round trip that takes the next lane); after a failure it is unlocked before the error
 * is thrown.
 *
 * A failure that is not about a record counts one attempt of the head batch in
 * PostgreSQL and schedules its retry with backoff; after the budget the batch is parked
 * as failed and the lane waits for its slow retry or a `replay` (order holds: nothing
 * behind it in the lane is sent).
 */
export async function drainLane(
  ctx: DeliveryContext,
  s: WorkerSession,
  lane: Lane,
  locked: boolean,
): Promise<DrainOutcome> {
  const ls: LaneSession = {
    conn: s.client,
    lane,
    signal: s.signal,
    log: s.log.child({ stream: lane.stream, lane: lane.lane }),
  };
  if (!locked && !(await tryLockLane(ls.conn, ctx.options.schema, lane))) return { kind: 'busy' };
  try {
    return await runLane(ctx, ls);
  } catch (e) {
    if (isConnectionFailure(e as Error)) s.broke(e as Error);
    await unlockOrBreak(ctx, s, lane);
    throw s.lost() ?? e;
  }
}

/** Lets go of a lane; a connection that cannot is destroyed by `closeSession` (its locks die with it). */
export async function unlockOrBreak(ctx: DeliveryContext, s: WorkerSession, lane: Lane): Promise<void> {
  if (s.lost()) return;
  try {
    await unlockLane(s.client, ctx.options.schema, lane);
  } catch (e) {
    s.broke(e as Error);
  }
}

async function runLane(ctx: DeliveryContext, s: LaneSession): Promise<DrainOutcome> {
  const so = ctx.options.stream(s.lane.stream);
  const check = ctx.sink.check;
  const limits: BatchLimits = {
    maxRecords: so.maxBatchRecords,
    maxBytes: so.maxBatchBytes,
    ...(check ? { check: (r: Record<string, unknown>) => check(s.lane.stream, r) } : {}),
  };
  const first = await claimWithState(s.conn, ctx.options.schema, s.lane, limits);
  const state = first.state ?? (await loadLaneState(s.conn, ctx.options.schema, s.lane));
  if (state.retryInMs > 0) return { kind: 'waiting', retryInMs: state.retryInMs };
  const sender = createBatchSender(ctx, s, state.attemptedUpto ?? 0);
  try {
    const more = await drainBatches(ctx, s, limits, first.batch, sender.deliver);
    return { kind: 'drained', ...sender.stats, more };
  } catch (e) {
    if (e instanceof Stopped) return { kind: 'stopped', delivered: sender.stats.delivered };
    if (e instanceof RetryLater && !s.signal.aborted) return retryLater(ctx, s, e);
    throw e;
  }
}

/**
 * The loop: deliver, claim the next batch, until the lane is dry, or it is time to let go
 * (then true: work is left). A batch short of the limit took everything committed at its
 * claim: the lane is dry (a later commit's wake makes it ready again; no empty claim here).
 */
async function drainBatches(
  ctx: DeliveryContext,
  s: LaneSession,
  limits: BatchLimits,
  first: ClaimedBatch,
  deliver: (batch: ClaimedBatch) => Promise<void>,
): Promise<boolean> {
  const heldSince = Date.now();
  let batch = first;
  for (;;) {
    if (batch.length === 0) return false;
    if (ctx.stopping() || s.signal.aborted) throw new Stopped();
    await deliver(batch);
    if (!batch.full) return false;
    if (Date.now() - heldSince > ctx.options.laneHoldMs && ctx.othersWaiting()) return true;
    if (ctx.stopping() || s.signal.aborted) throw new Stopped();
    batch = await claimBatch(s.conn, ctx.options.schema, s.lane, limits);
  }
}

/** Counts the failed attempt of the head batch and schedules its retry (or parks it as failed). */
async function retryLater(ctx: DeliveryContext, s: LaneSession, e: RetryLater): Promise<DrainOutcome> {
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
