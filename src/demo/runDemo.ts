import pg from 'pg';
import pino from 'pino';
import { createLakehouseServer, type LakehouseServer } from '../lakehouse/server.js';
import { createOutbox } from '../outbox/outbox.js';
import { pipelines } from '../pipelines/definitions.js';
import { createHttpSink } from '../pipelines/httpSink.js';
import { createRelay } from '../relay/relay.js';
import { localExecutor, runReport } from '../reports/runReport.js';
import { markHistoryLoaded } from './demoWorld.js';
import { liveLoad, loadHistory } from './load.js';
import { prepareDemo } from './prepareDemo.js';
import { type DemoProgress, startProgress } from './progress.js';
import { demoQueries } from './queries.js';
import { createRng } from './random.js';
import { createSimulator } from './simulator.js';
import { buildWorld, seedWorld } from './world.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Outbox schema of the demo (its queue is named after it). */
  schema: string;
  /** Warehouse directory of the demo. */
  warehouse: string;
  /** Drop the demo world (schemas and warehouse) and start afresh, instead of continuing it. */
  reset?: boolean;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8787 (0 = any free port). */
  port?: number;
  /** Simulated tenants of a new world. Default 5. */
  tenants?: number;
  /** Days of history of a new world. Default 90. */
  days?: number;
  /** First day of the history of a new world (ISO date). Default 2026-01-01, so the plan's Jan/Feb 2026 queries have data. */
  start?: string;
  /** Business operations per second in the live phase. Default 20. */
  rate?: number;
  /** Seconds of live simulation after the history. Default 15. */
  duration?: number;
  /** Run the lake as Cloudflare Pipelines do (no dedupe by event_id, see `serve --like-cloudflare`). */
  likeCloudflare?: boolean;
  /** Stay up (server and relay) after the results until the signal aborts. */
  keepRunning?: boolean;
  /** Called once the world is known (fresh or continued), before any event is written. */
  onStart?: (run: DemoRunInfo) => void;
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

/** Which world a run works on. */
export interface DemoRunInfo {
  schema: string;
  warehouse: string;
  /** Number of this run of the world (1 for a fresh start). */
  run: number;
  /** True when this run continued an existing world (its history was not loaded again). */
  continued: boolean;
  /** Why the world was started afresh, when it was. */
  freshBecause?: string;
  tenants: number;
  start: string;
  days: number;
}

export interface DemoResult extends DemoRunInfo {
  /** Events written by this run. */
  emitted: number;
  /** Events delivered in this world, all runs together. */
  delivered: number;
  pending: number;
  queries: DemoQueryResult[];
  lakehouseUrl: string;
  dashboardUrl: string;
  catalogUrl: string;
  aborted: boolean;
}

const WORLD_SEED = 42;

/** Waits until the relay delivered every event (or five minutes passed). */
async function drain(progress: DemoProgress, signal: AbortSignal) {
  const deadline = Date.now() + 300_000;
  while (!signal.aborted) {
    await progress.report();
    if (progress.last.pending === 0 && progress.last.inFlight === 0) return;
    if (Date.now() > deadline)
      throw new Error(`relay did not drain within 5 minutes (${progress.last.pending} pending)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The local lakehouse server and a relay delivering into it. */
async function startPlatform(o: DemoOptions) {
  const server = createLakehouseServer({
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
  const relay = createRelay({
    databaseUrl: o.databaseUrl,
    redisUrl: o.redisUrl,
    schema: o.schema,
    concurrency: 8,
    sink: createHttpSink({ url: `${server.url}/ingest/{stream}` }),
    logger: pino({ level: process.env.LAKEHOUSE_LOG_LEVEL ?? 'warn' }, pino.destination(2)),
  });
  try {
    await relay.start();
  } catch (e) {
    await server.stop();
    throw e;
  }
  return { server, relay };
}

/**
 * The whole data platform in one process: prepares its own world (refusing data it did not
 * write), serves the local lakehouse, runs the relay into it, simulates Company Manager
 * (the history on a fresh start, then live), waits until everything is delivered and
 * committed, and runs the plan's analytics queries. A second run continues the same world.
 */
export async function runDemo(o: DemoOptions): Promise<DemoResult> {
  const { signal } = o;
  const db = new pg.Pool({ connectionString: o.databaseUrl, max: 20 });
  db.on('error', () => {});
  let server: LakehouseServer | undefined;
  let relay: ReturnType<typeof createRelay> | undefined;
  let progress: DemoProgress | undefined;
  try {
    const prep = await prepareDemo(db, {
      databaseUrl: o.databaseUrl,
      schema: o.schema,
      warehouse: o.warehouse,
      reset: o.reset ?? false,
      world: { tenants: o.tenants ?? 5, start: o.start ?? '2026-01-01', days: o.days ?? 90 },
    });
    const info: DemoRunInfo = {
      schema: o.schema,
      warehouse: o.warehouse,
      run: prep.run,
      continued: prep.continued,
      ...(prep.freshBecause ? { freshBecause: prep.freshBecause } : {}),
      tenants: prep.world.tenants,
      start: prep.world.start,
      days: prep.world.days,
    };
    o.onStart?.(info);
    ({ server, relay } = await startPlatform(o));
    const activeRelay = relay;
    const outbox = createOutbox({ schema: o.schema });
    const world = buildWorld(info.tenants, WORLD_SEED);
    const { tenants } = world;
    // A continued world gets another random sequence, so its new ids differ from the first run's.
    const rng = prep.continued ? createRng(WORLD_SEED * 1000 + prep.run) : world.rng;
    const sim = createSimulator({
      pool: db,
      outbox,
      demoSchema: prep.appSchema,
      rng,
      run: prep.run,
      wake: (p) => activeRelay.wake(p).catch(() => {}),
    });
    progress = startProgress({
      outbox,
      db,
      emitted: () => sim.emitted,
      out: o.progress,
      isTty: o.isTty === true,
    });
    if (!prep.continued) {
      progress.phase = 'history';
      await seedWorld(db, prep.appSchema, tenants);
      await loadHistory(sim, tenants, info, rng, signal);
      if (!signal.aborted) await markHistoryLoaded(db, prep.appSchema);
    }
    progress.phase = 'live';
    await liveLoad(sim, tenants, rng, o);
    progress.phase = 'draining';
    await drain(progress, signal);
    // Delivered means staged durably; a commit makes it visible to SQL.
    await server.ingestor.flush();
    progress.stop();
    const last = progress.last;
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
      ...info,
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
    progress?.stop();
    await relay?.stop();
    await server?.stop();
    await db.end();
  }
}
