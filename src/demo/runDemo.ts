import pg from 'pg';
import pino from 'pino';
import { createLakehouseServer, type LakehouseServer } from '../lakehouse/server.js';
import { migrate } from '../outbox/migrate.js';
import { createOutbox } from '../outbox/outbox.js';
import type { OutboxStatus } from '../outbox/status.js';
import { pipelines } from '../pipelines/definitions.js';
import { createHttpSink } from '../pipelines/httpSink.js';
import { createRelay } from '../relay/relay.js';
import { localExecutor, runReport } from '../reports/runReport.js';
import { createBusinessTables } from './businessSchema.js';
import { demoQueries } from './queries.js';
import { createSimulator, type Simulator } from './simulator.js';
import { buildWorld, seedWorld, type Tenant } from './world.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Outbox schema. */
  schema: string;
  warehouse: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8787 (0 = any free port). */
  port?: number;
  /** Simulated tenants. Default 5. */
  tenants?: number;
  /** Days of history. Default 90. */
  days?: number;
  /** First day of the history (ISO date). Default 2026-01-01, so the plan's Jan/Feb 2026 queries have data. */
  start?: string;
  /** Business operations per second in the live phase. Default 20. */
  rate?: number;
  /** Seconds of live simulation after the history. Default 15. */
  duration?: number;
  /** Run the lake as Cloudflare Pipelines do (no dedupe by event_id, see `serve --like-cloudflare`). */
  likeCloudflare?: boolean;
  /** Stay up (server and relay) after the results until the signal aborts. */
  keepRunning?: boolean;
  /** Called with the results before a `keepRunning` wait. */
  onResults?: (result: DemoResult) => void;
  /** Mounts extra routes (the dashboard) on the lakehouse server. */
  extraRoutes?: ServerRoutes;
  signal: AbortSignal;
  /** Progress output (stderr). */
  progress: NodeJS.WriteStream | NodeJS.WritableStream;
  isTty?: boolean;
}

export type ServerRoutes = NonNullable<Parameters<typeof createLakehouseServer>[0]['routes']>;

export interface DemoQueryResult {
  /** The report's title. */
  name: string;
  /** `lakehouse report <report>` prints the same. */
  report: string;
  sql: string;
  columns: string[];
  rows: Record<string, unknown>[];
}

export interface DemoResult {
  emitted: number;
  delivered: number;
  pending: number;
  queries: DemoQueryResult[];
  lakehouseUrl: string;
  dashboardUrl: string;
  catalogUrl: string;
  aborted: boolean;
}

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

type Op = (t: Tenant, when: Date) => Promise<void>;

/** The history: every tenant's business day by day, with a monthly trend per tenant. */
function historyPlan(sim: Simulator, tenants: Tenant[], start: Date, days: number, rng: () => number) {
  const ops: { op: Op; t: Tenant; when: Date }[] = [];
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

function totals(status: OutboxStatus) {
  let pending = 0;
  let delivered = 0;
  let inFlight = 0;
  let lag = 0;
  for (const s of status.streams) {
    pending += s.pending;
    delivered += s.delivered;
    inFlight += s.inFlight;
    lag = Math.max(lag, s.oldestPendingAgeSeconds);
  }
  return { pending, delivered, inFlight, lag };
}

/**
 * The whole data platform in one process: migrates, serves the local lakehouse, runs the
 * relay into it, simulates Company Manager (history, then live), waits until everything is
 * delivered and committed, and runs the plan's analytics queries.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const { signal } = o;
  await migrate(o.databaseUrl, { schema: o.schema });
  const db = new pg.Pool({ connectionString: o.databaseUrl, max: 20 });
  db.on('error', () => {});
  let server: LakehouseServer | undefined;
  let relay: ReturnType<typeof createRelay> | undefined;
  let ticker: NodeJS.Timeout | undefined;
  try {
    const demoSchema = await createBusinessTables(db, o.schema);
    server = createLakehouseServer({
      warehouse: o.warehouse,
      pipelines: Object.values(pipelines),
      host: o.host ?? '127.0.0.1',
      port: o.port ?? 8787,
      routes: o.extraRoutes,
      likeCloudflare: o.likeCloudflare,
      command: 'demo',
      // Off localhost the server requires both tokens (it refuses to start without them).
      token: process.env.LAKEHOUSE_SINK_TOKEN || undefined,
      accessToken: process.env.LAKEHOUSE_DASHBOARD_TOKEN || undefined,
      onError: (e, what) => o.progress.write(`\nlakehouse: ${what}: ${String(e)}\n`),
    });
    await server.start();
    relay = createRelay({
      databaseUrl: o.databaseUrl,
      redisUrl: o.redisUrl,
      schema: o.schema,
      concurrency: 8,
      sink: createHttpSink({ url: `${server.url}/ingest/{stream}` }),
      logger: pino({ level: process.env.LAKEHOUSE_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
    });
    await relay.start();
    const activeRelay = relay;
    const outbox = createOutbox({ schema: o.schema });
    const { tenants, rng } = buildWorld(o.tenants ?? 5);
    await seedWorld(db, demoSchema, tenants);
    const sim = createSimulator({
      pool: db,
      outbox,
      demoSchema,
      rng,
      wake: (p) => activeRelay.wake(p).catch(() => {}),
    });

    let phase = 'history';
    let last = { pending: 0, delivered: 0, inFlight: 0, lag: 0 };
    let lastLine = 0;
    const report = async () => {
      try {
        last = totals(await outbox.status(db));
      } catch {
        return;
      }
      const line = `[${phase}] emitted ${sim.emitted}  delivered ${last.delivered}  pending ${last.pending}  lag ${last.lag.toFixed(1)}s`;
      if (o.isTty) o.progress.write(`\r\x1b[K${line}`);
      else if (Date.now() - lastLine >= 5000) {
        lastLine = Date.now();
        o.progress.write(`${line}\n`);
      }
    };
    let reporting = false;
    ticker = setInterval(() => {
      if (reporting) return;
      reporting = true;
      report().finally(() => {
        reporting = false;
      });
    }, 500);

    const start = new Date(`${o.start ?? '2026-01-01'}T00:00:00Z`);
    for (const t of tenants) await sim.createProducts(t, start);
    const plan = historyPlan(sim, tenants, start, o.days ?? 90, rng.next);
    await pool(plan, 16, signal, ({ op, t, when }) => op(t, when));

    phase = 'live';
    const rate = o.rate ?? 20;
    const liveEnd = Date.now() + (o.duration ?? 15) * 1000;
    const liveOps: Op[] = [
      sim.orderLifecycle,
      sim.priceChange,
      sim.session,
      sim.apiCall,
      sim.apiCall,
      sim.agentDecision,
      sim.prestashopSync,
    ];
    while (!signal.aborted && Date.now() < liveEnd) {
      const tickStart = Date.now();
      const n = Math.max(1, Math.round(rate / 4));
      await Promise.all(Array.from({ length: n }, () => rng.pick(liveOps)(rng.pick(tenants), new Date())));
      const wait = 250 - (Date.now() - tickStart);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait)); // pacing of the live load, not synchronization
    }

    phase = 'draining';
    const deadline = Date.now() + 300_000;
    while (!signal.aborted) {
      await report();
      if (last.pending === 0 && last.inFlight === 0) break;
      if (Date.now() > deadline)
        throw new Error(`relay did not drain within 5 minutes (${last.pending} pending)`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // Delivered means staged durably; a commit makes it visible to SQL.
    await server.ingestor.flush();
    clearInterval(ticker);
    if (o.isTty) o.progress.write('\n');
    o.progress.write(`delivered ${last.delivered} events; ${last.pending} pending\n`);

    const results: DemoQueryResult[] = [];
    if (!signal.aborted) {
      const execute = localExecutor(o.warehouse);
      for (const q of demoQueries(tenants[0]!.tenant_id)) {
        const r = await runReport(q.report, q.params, execute);
        results.push({ name: r.title, report: r.name, sql: r.sql, columns: r.columns, rows: r.rows });
      }
    }
    const result: DemoResult = {
      emitted: sim.emitted,
      delivered: last.delivered,
      pending: last.pending,
      queries: results,
      lakehouseUrl: server.url,
      dashboardUrl: `${server.url}/dashboard`,
      catalogUrl: `${server.url}/catalog/v1/config`,
      aborted: signal.aborted,
    };
    o.onResults?.(result);
    if (o.keepRunning && !signal.aborted) {
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    return result;
  } finally {
    if (ticker) clearInterval(ticker);
    await relay?.stop();
    await server?.stop();
    await db.end();
  }
}
