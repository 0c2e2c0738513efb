import type { ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { migrate } from '../src/outbox/migrate.js';
import { createOutbox } from '../src/outbox/outbox.js';
import { createRelayTrigger } from '../src/relay/trigger.js';
import {
  type BenchConfig,
  type BenchSink,
  benchOrder,
  type Figure,
  percentile,
  progress,
  round,
  sleep,
  startRelayChild,
  waitUntil,
} from './lib.js';

const RATE = 2000;
const EVENTS_PER_TX = 5;
const WRITERS = 8;
const TENANTS = 2000;

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Figure 4: commit -> sink acknowledgement at a steady 2,000 events/s (transactions of 5
 * events for one tenant, 2,000 tenants), the relay in its own process (as deployed) woken
 * after each commit by the writers' `createRelayTrigger().wake(result.partitions)`. Commit
 * time is taken when COMMIT returns; arrival time when the sink (in this process) has read
 * the request (same process clock). The same at 400 events/s (`latency*At400`), the rate at
 * which issue 16 compared a queue-per-tenant peer.
 */
export async function benchLatency(
  cfg: BenchConfig,
  sink: BenchSink,
  schemas: (suffix: string) => string,
): Promise<Record<string, Figure>> {
  const seconds = cfg.quick ? 10 : 30;
  const full = await measureLatency(cfg, sink, schemas('latency'), RATE, seconds);
  const slow = await measureLatency(cfg, sink, schemas('latency400'), 400, seconds);
  return {
    latencyP50: { value: full.p(50), unit: 'ms', note: full.note },
    latencyP95: { value: full.p(95), unit: 'ms' },
    latencyP99: { value: full.p(99), unit: 'ms', goal: '< 100 ms', goalMet: full.p(99) < 100 },
    latencyP50At400: { value: slow.p(50), unit: 'ms', note: slow.note },
    latencyP99At400: { value: slow.p(99), unit: 'ms' },
  };
}

/** One latency run on a fresh outbox schema at `rate` events/s. */
async function measureLatency(
  cfg: BenchConfig,
  sink: BenchSink,
  schema: string,
  rate: number,
  seconds: number,
) {
  await migrate(cfg.databaseUrl, { schema });
  const outbox = createOutbox({ schema });
  sink.reset();
  const relay = startRelayChild(cfg, schema, sink.url, ['--concurrency', '8']); // the relay as deployed;
  const trigger = createRelayTrigger({ redisUrl: cfg.redisUrl, schema });
  try {
    // The relay is up once it delivered a first event (its start is not part of the figure).
    await withWarmup(cfg, outbox, trigger, sink);
    sink.trackIds = true;
    progress(`latency: ${rate} events/s for ${seconds}s`);
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const run = await writeAtRate(cfg, outbox, trigger, rate, seconds);
    await waitUntil(() => sink.arrivals.size >= run.commits.size, 30_000);
    loopDelay.disable();
    const lat: number[] = [];
    let missing = 0;
    for (const [id, at] of run.commits) {
      const got = sink.arrivals.get(id);
      if (got === undefined) missing++;
      else lat.push(got - at);
    }
    lat.sort((a, b) => a - b);
    const p = (x: number) => round(percentile(lat, x), 1);
    progress(`latency: p50 ${p(50)} ms, p95 ${p(95)} ms, p99 ${p(99)} ms (${missing} missing)`);
    const delay = `this process's event-loop delay p99 ${round(loopDelay.percentile(99) / 1e6, 1)} ms`;
    const note = `${run.commits.size} events at ${round(run.rate, 0)} events/s achieved (${EVENTS_PER_TX} per transaction, ${TENANTS} tenants, ${WRITERS} writers), ${missing} not acknowledged${run.behind > 0 ? `, writers fell behind ${run.behind} times` : ''}; ${delay}`;
    return { p, note };
  } finally {
    sink.trackIds = false;
    await stopChild(relay);
    await trigger.close();
  }
}

/** Writers committing `rate` events/s for `seconds`, waking the relay after each commit. */
async function writeAtRate(
  cfg: BenchConfig,
  outbox: ReturnType<typeof createOutbox>,
  trigger: ReturnType<typeof createRelayTrigger>,
  rate: number,
  seconds: number,
): Promise<{ commits: Map<string, number>; rate: number; behind: number }> {
  const commits = new Map<string, number>();
  const clients = await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      const c = new pg.Client({ connectionString: cfg.databaseUrl });
      await c.connect();
      return c;
    }),
  );
  let issued = 0;
  let behind = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  try {
    await Promise.all(
      clients.map(async (c, w) => {
        while (performance.now() < end) {
          const due = ((performance.now() - t0) / 1000) * rate;
          if (issued >= due) {
            await sleep(2);
            continue;
          }
          if (due - issued > rate / 10) behind++;
          const n = issued;
          issued += EVENTS_PER_TX;
          const tenant = `tenant-${(n / EVENTS_PER_TX + w) % TENANTS}`;
          const envelopes = outbox.prepare(
            Array.from({ length: EVENTS_PER_TX }, (_, k) => ({
              stream: 'orders' as const,
              data: benchOrder(n + k, tenant),
            })),
          );
          await c.query('BEGIN');
          const r = await outbox.emit(c, ...envelopes);
          await c.query('COMMIT');
          const at = performance.now();
          for (const e of envelopes) commits.set(e.event_id, at);
          void trigger.wake(r.partitions);
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  return { commits, rate: commits.size / ((performance.now() - t0) / 1000), behind };
}

/** Emits one event until the relay child delivered it: the relay is started and connected. */
async function withWarmup(
  cfg: BenchConfig,
  outbox: ReturnType<typeof createOutbox>,
  trigger: ReturnType<typeof createRelayTrigger>,
  sink: BenchSink,
): Promise<void> {
  const c = new pg.Client({ connectionString: cfg.databaseUrl });
  await c.connect();
  try {
    const r = await outbox.emit(
      c,
      ...outbox.prepare([{ stream: 'orders' as const, data: benchOrder(-1, 'tenant-0') }]),
    );
    await trigger.wake(r.partitions);
    if (!(await waitUntil(() => sink.received > 0, 60_000)))
      throw new Error('latency: the relay did not start');
  } finally {
    await c.end();
  }
  sink.reset();
}
