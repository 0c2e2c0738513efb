import type { Rng } from './random.js';
import type { SimOperation, Simulator } from './simulator.js';
import type { Tenant } from './world.js';

const DAY = 86_400_000;

/** Runs `worker` over items with at most `concurrency` at once; stops early when aborted. */
async function pool<T>(
  items: T[],
  concurrency: number,
  signal: AbortSignal,
  worker: (t: T) => Promise<void>,
) {
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (i < items.length && !signal.aborted) await worker(items[i++]!);
    }),
  );
}

/** The history: every tenant's business day by day, with a monthly trend per tenant. */
function historyPlan(sim: Simulator, tenants: Tenant[], start: Date, days: number, rng: () => number) {
  const ops: { op: SimOperation; t: Tenant; when: Date }[] = [];
  const rand = (day: Date) => new Date(day.getTime() + Math.floor(rng() * DAY));
  for (let d = 0; d < days; d++) {
    const day = new Date(start.getTime() + d * DAY);
    const monthsIn =
      (day.getUTCFullYear() - start.getUTCFullYear()) * 12 + day.getUTCMonth() - start.getUTCMonth();
    for (const t of tenants) {
      const orders = Math.max(
        1,
        Math.round(t.ordersPerDay * t.monthlyTrend ** monthsIn * (0.8 + rng() * 0.4)),
      );
      for (let k = 0; k < orders; k++) ops.push({ op: sim.orderLifecycle, t, when: rand(day) });
      if (d % 3 === 0) for (let k = 0; k < 3; k++) ops.push({ op: sim.priceChange, t, when: rand(day) });
      for (let k = 0; k < 4; k++) ops.push({ op: sim.session, t, when: rand(day) });
      for (let k = 0; k < 3; k++) ops.push({ op: sim.apiCall, t, when: rand(day) });
      ops.push({ op: sim.agentDecision, t, when: rand(day) });
      for (let k = 0; k < 2; k++) ops.push({ op: sim.prestashopSync, t, when: rand(day) });
    }
  }
  return ops;
}

/** Emits the whole history of a new world. */
export async function loadHistory(
  sim: Simulator,
  tenants: Tenant[],
  info: { start: string; days: number },
  rng: Rng,
  signal: AbortSignal,
) {
  const start = new Date(`${info.start}T00:00:00Z`);
  for (const t of tenants) await sim.createProducts(t, start);
  const plan = historyPlan(sim, tenants, start, info.days, rng.next);
  await pool(plan, 16, signal, ({ op, t, when }) => op(t, when));
}

/** Business as it happens now, at `rate` operations per second for `duration` seconds. */
export async function liveLoad(
  sim: Simulator,
  tenants: Tenant[],
  rng: Rng,
  o: { rate?: number; duration?: number; signal: AbortSignal },
) {
  const rate = o.rate ?? 20;
  const liveEnd = Date.now() + (o.duration ?? 15) * 1000;
  const liveOps: SimOperation[] = [
    sim.orderLifecycle,
    sim.priceChange,
    sim.session,
    sim.apiCall,
    sim.apiCall,
    sim.agentDecision,
    sim.prestashopSync,
  ];
  while (!o.signal.aborted && Date.now() < liveEnd) {
    const tickStart = Date.now();
    const n = Math.max(1, Math.round(rate / 4));
    await Promise.all(Array.from({ length: n }, () => rng.pick(liveOps)(rng.pick(tenants), new Date())));
    const wait = 250 - (Date.now() - tickStart);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait)); // pacing of the live load, not synchronization
  }
}
