import type { Server } from 'node:http';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { type Logger, pino } from 'pino';
import { LakehouseError } from '../errors.js';
import { ident } from '../outbox/executor.js';
import { DEFAULT_LANE_COUNT } from '../outbox/lanes.js';
import type { PartitionRef } from '../outbox/rows.js';
import { createHttpSink } from '../pipelines/httpSink.js';
import type { DeliveryContext } from './context.js';
import { runDrainLoop } from './drainWork.js';
import { type FailedLane, failedLanes, findPendingLanes, isIdle } from './findPendingLanes.js';
import { type HealthBeat, type HealthSnapshot, healthSnapshot, startHealthServer } from './health.js';
import { DRAIN, drainJob, laneOfJob, lanesOf, SWEEP } from './jobs.js';
import { createLaneScheduler } from './laneScheduler.js';
import { createRelayMetrics, type RelayMetrics } from './metrics.js';
import { type RelayOptions, type ResolvedRelayOptions, resolveRelayOptions } from './options.js';
import { delay, RateLimiter } from './rateLimiter.js';
import { assertSessionConnection, createRelayPool } from './relayPool.js';
import type { Sink } from './sink.js';
import type { Lane } from './sql.js';
import { listenForWakes } from './wakes.js';

/** What `runUntilIdle` leaves behind: batches parked as failed (the lanes they hold). */
export interface IdleResult {
  failedBatches: FailedLane[];
}

export interface Relay {
  readonly options: ResolvedRelayOptions;
  readonly metrics: RelayMetrics;
  /** URL of the metrics/health server once started (when `metricsPort` is set). */
  readonly metricsUrl: string | undefined;
  /** Starts the worker, the sweep and the metrics server. Safe to call twice. */
  start(): Promise<void>;
  /** Finishes or releases in-flight batches and closes everything. Safe to call twice. */
  stop(): Promise<void>;
  /**
   * Starts, waits until nothing deliverable is pending or in flight (parked events, blocked
   * partitions and failed batches aside), stops, and reports the failed batches.
   */
  runUntilIdle(options?: { pollMs?: number; signal?: AbortSignal }): Promise<IdleResult>;
  /** Makes the lanes of partitions ready for this process's drain loops (call after COMMIT in the relay's process; other processes use `createRelayTrigger`). */
  wake(partitions: PartitionRef[]): Promise<void>;
  health(): HealthSnapshot;
}

export function defaultLogger(): Logger {
  return pino(
    { level: process.env.LAKEHOUSE_LOG_LEVEL ?? 'info', base: { service: 'lakehouse-relay' } },
    pino.destination(2),
  );
}

/** The relay's long-lived parts, created by `start`. */
interface Parts {
  pool: pg.Pool;
  connection: Redis;
  workerConnection: Redis;
  /** Subscribed to the wake channel (a subscribed connection can do nothing else). */
  subscriber: Redis;
  queue: Queue;
  worker?: Worker;
  laneCount: number;
}

/** Reads the stored lane count (set by `migrate`). */
async function readLaneCount(pool: pg.Pool, schema: string): Promise<number> {
  const { rows } = await pool.query<{ lane_count: number }>(
    `SELECT lane_count FROM ${ident(schema)}.settings`,
  );
  return rows[0]?.lane_count ?? DEFAULT_LANE_COUNT;
}

/**
 * The relay: BullMQ workers draining the outbox's lanes to a sink. PostgreSQL owns order,
 * delivery and retry state (see `drainLane`); BullMQ drives the work: deduplicated drain
 * jobs per lane, a repeating sweep that finds lanes with pending events, stalled-job
 * recovery, and work shared by any number of processes. Losing Redis entirely loses
 * nothing: a watchdog recreates the sweep, and the sweep finds every pending lane in
 * PostgreSQL.
 */
export function createRelay(options: RelayOptions = {}): Relay {
  const opts = resolveRelayOptions(options);
  const logger = options.logger ?? defaultLogger();
  const metrics = createRelayMetrics();
  const sink: Sink = options.sink ?? createHttpSink({ catalog: opts.catalog });
  const abort = new AbortController();
  const limiter = new RateLimiter();
  const scheduler = createLaneScheduler();
  const stopLoops = new AbortController();
  let loops: Promise<void>[] = [];
  const beat: HealthBeat = { lastSweepAt: 0, lastDeliveryAt: 0, pendingLanes: 0, pendingSince: 0 };
  let stopping = false;
  let started: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;
  let parts: Parts | undefined;
  let healthServer: Server | undefined;
  let metricsUrl: string | undefined;
  let watchdog: NodeJS.Timeout | undefined;

  async function enqueue(lanes: Lane[]): Promise<void> {
    if (!parts || lanes.length === 0) return;
    await parts.queue.addBulk(lanes.map((l) => drainJob(l)));
  }

  async function sweep(): Promise<void> {
    if (!parts) return;
    parts.laneCount = await readLaneCount(parts.pool, opts.schema);
    const lanes = await findPendingLanes(parts.pool, opts.schema);
    const now = Date.now();
    beat.lastSweepAt = now;
    metrics.heartbeat.set(now / 1000);
    const pending = lanes.filter((l) => !l.failed).length;
    if (pending > 0 && beat.pendingLanes === 0) beat.pendingSince = now;
    beat.pendingLanes = pending;
    await enqueue(lanes.filter((l) => l.due).map((l) => ({ stream: l.stream, lane: l.lane })));
  }

  async function ensureScheduler(): Promise<void> {
    await parts?.queue.upsertJobScheduler(
      SWEEP,
      { every: opts.sweepIntervalMs },
      { name: SWEEP, opts: { removeOnComplete: true, removeOnFail: true } },
    );
  }

  function context(): DeliveryContext {
    return {
      pool: (parts as Parts).pool,
      sink,
      options: opts,
      limiter,
      metrics,
      logger,
      signal: abort.signal,
      stopping: () => stopping,
      othersWaiting: () => scheduler.waiting > 0,
    };
  }

  /** A drain job only marks its lane ready: this process's drain loops take it from there. */
  async function processJob(job: Job): Promise<void> {
    if (job.name === SWEEP) await sweep();
    else if (job.name === DRAIN && parts) scheduler.add([laneOfJob(job.data, parts.laneCount)]);
  }

  function startLoops(): void {
    const ctx = context();
    loops = Array.from({ length: opts.concurrency }, () =>
      runDrainLoop(ctx, scheduler, stopLoops.signal, (_lane, outcome) => {
        if (outcome.kind === 'drained' && outcome.delivered > 0) beat.lastDeliveryAt = Date.now();
      }),
    );
  }

  function startWorker(p: Parts): Worker {
    const worker = new Worker(opts.queueName, processJob, {
      connection: p.workerConnection,
      prefix: opts.queuePrefix,
      concurrency: 2, // jobs only mark lanes ready or sweep: the drain loops do the work
      lockDuration: 15_000,
      stalledInterval: 5_000,
      maxStalledCount: 100,
    });
    worker.on('error', (e) => logger.warn({ error: e.message }, 'worker error'));
    worker.on('failed', (job, err) => {
      logger.debug({ job: job?.name, error: err.message }, 'relay job failed; the sweep runs again');
    });
    return worker;
  }

  async function createParts(): Promise<Parts> {
    const pool = createRelayPool(opts, logger);
    let laneCount = DEFAULT_LANE_COUNT;
    try {
      await assertSessionConnection(pool);
      laneCount = await readLaneCount(pool, opts.schema);
    } catch (e) {
      // A transaction pooler, or a reachable database without the outbox (not migrated:
      // undefined table or schema), will not fix itself: fail at start.
      const code = (e as { code?: string }).code;
      if (e instanceof LakehouseError || code === '42P01' || code === '3F000') {
        await pool.end().catch(() => {});
        throw e;
      }
      // The database is not reachable yet: the sweep reads the lane count once it is.
      logger.warn({ error: (e as Error).message }, 'could not read the outbox settings yet; will retry');
    }
    const connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', (e) => logger.warn({ error: e.message }, 'redis connection error'));
    const queue = new Queue(opts.queueName, { connection, prefix: opts.queuePrefix });
    queue.on('error', (e) => logger.warn({ error: e.message }, 'queue error'));
    // BullMQ closes only connections it created: both of ours are closed in stop().
    const workerConnection = connection.duplicate();
    workerConnection.on('error', () => {});
    const subscriber = connection.duplicate();
    subscriber.on('error', () => {});
    return { pool, connection, workerConnection, subscriber, queue, laneCount };
  }

  /** Watchdog: if the scheduled sweep has not run for a while (Redis flushed or restarted), sweep from here. */
  async function tick(): Promise<void> {
    if (stopping || Date.now() - beat.lastSweepAt <= Math.max(3000, 3 * opts.sweepIntervalMs)) return;
    try {
      await ensureScheduler();
      await sweep();
    } catch (e) {
      logger.warn({ error: (e as Error).message }, 'sweep failed; will try again');
    }
  }

  async function doStart(): Promise<void> {
    parts = await createParts();
    startLoops();
    const p = parts;
    await listenForWakes(
      p.subscriber,
      { prefix: opts.queuePrefix, name: opts.queueName },
      () => p.laneCount,
      (lanes) => scheduler.add(lanes),
      logger,
    );
    parts.worker = startWorker(parts);
    if (opts.metricsPort !== undefined) {
      const health = () => relay.health();
      const h = await startHealthServer(metrics.registry, health, opts.metricsPort, opts.metricsHost);
      healthServer = h.server;
      metricsUrl = h.url;
    }
    watchdog = setInterval(() => void tick(), Math.max(1000, opts.sweepIntervalMs));
    try {
      await ensureScheduler();
      await sweep();
    } catch (e) {
      logger.warn({ error: (e as Error).message }, 'first sweep failed; the watchdog retries');
    }
    logger.info(
      {
        schema: opts.schema,
        queue: opts.queueName,
        concurrency: opts.concurrency,
        lanes: parts.laneCount,
        metricsUrl,
      },
      'relay started',
    );
  }

  /**
   * Stops the drain loops (each finishes or abandons its batch: after the grace period the
   * in-flight requests are aborted and their batches stay pending), then the BullMQ worker.
   */
  async function closeWorker(worker: Worker | undefined): Promise<void> {
    stopLoops.abort();
    scheduler.close();
    const grace = setTimeout(() => abort.abort(new Error('relay stopping')), opts.shutdownGraceMs);
    const timers = new AbortController(); // ends the race timers below once they lost
    try {
      await Promise.race([Promise.allSettled(loops), delay(opts.shutdownGraceMs + 500, timers.signal)]);
      if (!worker) return;
      const forced = await Promise.race([
        worker.close().then(() => false),
        delay(1000, timers.signal).then(() => true),
      ]);
      if (forced) await worker.close(true).catch(() => {});
    } finally {
      clearTimeout(grace);
      timers.abort();
    }
  }

  async function doStop(): Promise<void> {
    stopping = true;
    if (watchdog) clearInterval(watchdog);
    await started?.catch(() => {});
    await closeWorker(parts?.worker);
    await parts?.queue.close().catch(() => {});
    parts?.connection.disconnect();
    parts?.workerConnection.disconnect();
    parts?.subscriber.disconnect();
    await parts?.pool.end().catch(() => {});
    await sink.close?.().catch(() => {});
    if (healthServer) await new Promise((r) => healthServer?.close(() => r(undefined)));
    logger.info('relay stopped');
  }

  async function waitIdle(pollMs: number, signal?: AbortSignal): Promise<void> {
    let idleChecks = 0;
    while (!signal?.aborted && !stopping && idleChecks < 2) {
      await delay(pollMs, signal).catch(() => {});
      try {
        idleChecks = (await isIdle((parts as Parts).pool, opts.schema)) ? idleChecks + 1 : 0;
      } catch (e) {
        idleChecks = 0;
        logger.warn({ error: (e as Error).message }, 'idle check failed; will try again');
      }
    }
  }

  const relay: Relay = {
    options: opts,
    metrics,
    get metricsUrl() {
      return metricsUrl;
    },
    start() {
      started ??= doStart();
      return started;
    },
    stop() {
      stopped ??= doStop();
      return stopped;
    },
    async runUntilIdle({ pollMs = 250, signal } = {}) {
      await relay.start();
      await waitIdle(pollMs, signal);
      const failedBatches = await failedLanes((parts as Parts).pool, opts.schema).catch(() => []);
      await relay.stop();
      return { failedBatches };
    },
    async wake(partitions) {
      // In this process: the lanes are ready for the drain loops at once, no job needed.
      if (parts) scheduler.add(lanesOf(partitions, parts.laneCount));
    },
    health: () =>
      healthSnapshot(beat, {
        stopping,
        sweepIntervalMs: opts.sweepIntervalMs,
        stuckAfterMs: opts.stuckAfterMs,
      }),
  };
  return relay;
}
