import type { DeliveryContext, DrainOutcome } from './context.js';
import {
  closeSession,
  drainLane,
  isConnectionFailure,
  openSession,
  unlockOrBreak,
  type WorkerSession,
} from './drainLane.js';
import { relockLane } from './laneLock.js';
import type { LaneScheduler } from './laneScheduler.js';
import { delay } from './rateLimiter.js';
import type { Lane } from './sql.js';

/** What a drain loop reports after each lane it drained. */
export type LaneDone = (lane: Lane, outcome: DrainOutcome) => void;

/** A loop's connection and the lane it still holds (kept locked until it takes the next one). */
interface LoopState {
  s: WorkerSession | undefined;
  held: Lane | undefined;
  /** Lanes found busy once and looked at again: a second `busy` is left to their holder. */
  retriedBusy: Set<string>;
}

/**
 * One drain loop of a relay process (the relay runs `concurrency` of them): takes the next
 * ready lane from the scheduler, drains it under its lock on the loop's own connection,
 * and goes on with the next. The loop keeps its connection between lanes; when the next
 * lane is ready at once, letting go of one lane and locking the next is one round trip,
 * otherwise the lane is let go before the loop waits.
 */
export async function runDrainLoop(
  ctx: DeliveryContext,
  scheduler: LaneScheduler,
  stop: AbortSignal,
  onLane: LaneDone,
): Promise<void> {
  const st: LoopState = { s: undefined, held: undefined, retriedBusy: new Set() };
  try {
    while (!ctx.stopping() && !stop.aborted) {
      const lane = st.held ? scheduler.tryTake() : await scheduler.take(stop);
      if (!lane) {
        await letGo(ctx, scheduler, st);
        continue;
      }
      try {
        await drainNext(ctx, scheduler, st, lane, onLane);
      } catch (e) {
        if (st.s && isConnectionFailure(e as Error)) st.s.broke(e as Error);
        dropBrokenSession(scheduler, st);
        scheduler.release(lane);
        ctx.logger.warn(
          { stream: lane.stream, lane: lane.lane, error: (e as Error).message },
          'drain failed; will look again',
        );
        scheduler.addLater(lane, 1000);
        await delay(200, stop).catch(() => {});
      }
    }
  } finally {
    await letGo(ctx, scheduler, st);
    if (st.s) closeSession(st.s);
  }
}

/** Destroys a connection that broke (logged); the lane it held was unlocked with it. */
function dropBrokenSession(scheduler: LaneScheduler, st: LoopState): void {
  if (!st.s?.lost()) return;
  closeSession(st.s);
  st.s = undefined;
  if (st.held) scheduler.release(st.held);
  st.held = undefined;
}

/** Unlocks the lane the loop still holds. */
async function letGo(ctx: DeliveryContext, scheduler: LaneScheduler, st: LoopState): Promise<void> {
  if (!st.held) return;
  if (st.s) await unlockOrBreak(ctx, st.s, st.held);
  scheduler.release(st.held);
  st.held = undefined;
}

async function drainNext(
  ctx: DeliveryContext,
  scheduler: LaneScheduler,
  st: LoopState,
  lane: Lane,
  onLane: LaneDone,
): Promise<void> {
  dropBrokenSession(scheduler, st);
  st.s ??= await openSession(ctx);
  let outcome: DrainOutcome;
  if (st.held) {
    const prev = st.held;
    const locked = await relockLane(st.s.client, ctx.options.schema, prev, lane);
    st.held = undefined;
    scheduler.release(prev);
    outcome = locked ? await drainLane(ctx, st.s, lane, true) : { kind: 'busy' };
  } else outcome = await drainLane(ctx, st.s, lane, false);
  if (outcome.kind === 'busy') {
    scheduler.release(lane);
    lookAgainIfBusy(scheduler, st, lane);
    return;
  }
  st.held = lane;
  if (outcome.kind === 'drained' && outcome.more) scheduler.add([lane]);
  if (outcome.kind === 'waiting' && outcome.retryInMs <= ctx.options.retry.maxDelayMs)
    scheduler.addLater(lane, outcome.retryInMs);
  onLane(lane, outcome);
}

/**
 * Another relay holds the lane: it may have let go of it just before the events of our
 * wake committed, so look once more shortly; a second `busy` is left to the holder (whose
 * next claim sees the events) and to the sweep.
 */
function lookAgainIfBusy(scheduler: LaneScheduler, st: LoopState, lane: Lane): void {
  const k = `${lane.stream}/${lane.lane}`;
  if (st.retriedBusy.delete(k)) return;
  st.retriedBusy.add(k);
  scheduler.addLater(lane, 50);
}
