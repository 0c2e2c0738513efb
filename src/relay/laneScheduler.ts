import type { Lane } from './sql.js';

const keyOf = (l: Lane) => `${l.stream}\u0000${l.lane}`;

/**
 * The lanes one relay process has been asked to look at, in the order they were asked for,
 * handed to its drain loops one at a time. A lane is "ready" once woken (a commit in this
 * process, a drain job from a writer's trigger or the sweep, a lane let go with work left)
 * and stays ready until a loop takes it; a lane woken while a loop of this process holds
 * it is taken again after that loop lets go, so no wake is lost in between. Which events
 * are delivered, and by whom, is decided in PostgreSQL (lane locks, `pending`): this only
 * decides which lane a free loop looks at next, with no Redis or database round trip.
 */
export interface LaneScheduler {
  /** Marks lanes ready (idempotent) and wakes a waiting loop. */
  add(lanes: Iterable<Lane>): void;
  /** Marks a lane ready after `ms` (a retry backoff). */
  addLater(lane: Lane, ms: number): void;
  /** The oldest ready lane not held by this process, taken and held; waits for one. `undefined` once aborted. */
  take(signal: AbortSignal): Promise<Lane | undefined>;
  /** The oldest ready lane not held, if there is one now (no waiting). */
  tryTake(): Lane | undefined;
  /** The loop let go of a lane it took. */
  release(lane: Lane): void;
  /** Lanes ready and not held: others wait for a loop. */
  readonly waiting: number;
  /** Cancels pending `addLater` timers. */
  close(): void;
}

export function createLaneScheduler(): LaneScheduler {
  const ready = new Map<string, Lane>();
  const held = new Set<string>();
  const waiters = new Set<() => void>();
  const timers = new Set<NodeJS.Timeout>();

  function tryTake(): Lane | undefined {
    for (const [k, l] of ready) {
      if (held.has(k)) continue;
      ready.delete(k);
      held.add(k);
      return l;
    }
    return undefined;
  }

  function wakeOne(): void {
    const first = waiters.values().next();
    if (!first.done) first.value();
  }

  const scheduler: LaneScheduler = {
    add(lanes) {
      for (const l of lanes) {
        const k = keyOf(l);
        if (ready.has(k)) continue;
        ready.set(k, { stream: l.stream, lane: l.lane });
        if (!held.has(k)) wakeOne();
      }
    },
    addLater(lane, ms) {
      const t = setTimeout(() => {
        timers.delete(t);
        scheduler.add([lane]);
      }, ms);
      t.unref();
      timers.add(t);
    },
    async take(signal) {
      for (;;) {
        if (signal.aborted) return undefined;
        const l = tryTake();
        if (l) return l;
        await new Promise<void>((resolve) => {
          const done = () => {
            waiters.delete(done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          waiters.add(done);
          signal.addEventListener('abort', done, { once: true });
        });
      }
    },
    tryTake,
    release(lane) {
      const k = keyOf(lane);
      held.delete(k);
      if (ready.has(k)) wakeOne();
    },
    get waiting() {
      let n = 0;
      for (const k of ready.keys()) if (!held.has(k)) n++;
      return n;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
  return scheduler;
}
