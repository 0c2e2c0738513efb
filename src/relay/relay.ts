import type { Server } from 'node:http';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { type Logger, pino } from 'pino';
import type { PartitionRef } from '../outbox/rows.js';
import { createHttpSink } from '../pipelines/httpSink.js';
import { type DeliveryContext, type DrainOutcome, drainPartition, RetryLater } from './deliverPartition.js';
import { findPendingPartitions, isIdle } from './findPendingPartitions.js';
import { type HealthSnapshot, startHealthServer } from './health.js';
import { DRAIN, drainJob, SWEEP } from './jobs.js';
import { createRelayMetrics, type RelayMetrics } from './metrics.js';
import { type RelayOptions, type ResolvedRelayOptions, resolveRelayOptions } from './options.js';
import { delay, RateLimiter } from './rateLimiter.js';
import type { Sink } from './sink.js';
import type { Partition } from './sql.js';

export interface Relay {
  readonly options: ResolvedRelayOptions;
  readonly metrics: RelayMetrics;
  /** URL of the metrics/health server once started (when `metricsPort` is set). */
  readonly metricsUrl: string | undefined;
  /** Starts the worker, the sweep and the metrics server. Safe to call twice. */
  start(): Promise<void>;
  /** Finishes or releases in-flight batches and closes everything. Safe to call twice. */
  stop(): Promise<void>;
  /** Starts, waits until nothing is pending or in flight (parked and held events aside), stops. */
  runUntilIdle(options?: { pollMs?: number; signal?: AbortSignal }): Promise<void>;
  /** Queues drain jobs for partitions (what an emitter does after COMMIT). */
  wake(partitions: PartitionRef[]): Promise<void>;
  health(): HealthSnapshot;
}

export function defaultLogger(): Logger {
  return pino(
    { level: process.env.LAKEHOUSE_LOG_LEVEL ?? 'info', base: { service: 'lakehouse-relay' } },
    pino.destination(2),
  );
}

/**
 * The relay: a BullMQ worker draining the outbox to a sink. PostgreSQL owns order and
 * delivery state (see `drainPartition`); BullMQ drives the work: deduplicated drain jobs
 * per partition, retries with backoff, a repeating sweep that finds partitions with
 * pending events, stalled-job recovery, and work shared by any number of processes.
 * Losing Redis entirely loses nothing: a watchdog recreates the sweep, and the sweep
 * finds every pending partition in PostgreSQL.
 */
export function createRelay(options: RelayOptions = {}): Relay {
  const opts = resolveRelayOptions(options);
  const logger = options.logger ?? defaultLogger();
  const metrics = createRelayMetrics();
  const sink: Sink = options.sink ?? createHttpSink();
  const abort = new AbortController();
  let stopping = false;
  let started: Promise<void> | undefined;
  let stopped: Promise<void> | undefined;
  let pool: pg.Pool | undefined;
  let connection: Redis | undefined;
  let workerConnection: Redis | undefined;
  let queue: Queue | undefined;
  let worker: Worker | undefined;
  let healthServer: Server | undefined;
  let metricsUrl: string | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  const beat = { lastSweepAt: 0, lastDeliveryAt: 0, pendingPartitions: 0, pendingSince: 0 };

  const attempts = opts.retry.attempts;

  async function enqueue(partitions: Partition[]): Promise<void> {
    if (!queue || partitions.length === 0) return;
    await queue.addBulk(partitions.map((p) => drainJob(p, attempts)));
  }

  async function sweep(): Promise<void> {
    if (!pool) return;
    const partitions = await findPendingPartitions(pool, opts.schema);
    const now = Date.now();
    beat.lastSweepAt = now;
    metrics.heartbeat.set(now / 1000);
    if (partitions.length > 0 && beat.pendingPartitions === 0) beat.pendingSince = now;
    beat.pendingPartitions = partitions.length;
    await enqueue(partitions);
  }

  async function ensureScheduler(): Promise<void> {
    await queue?.upsertJobScheduler(
      SWEEP,
      { every: opts.sweepIntervalMs },
      { name: SWEEP, opts: { removeOnComplete: true, removeOnFail: true } },
    );
  }

  async function processJob(job: Job): Promise<DrainOutcome | undefined> {
    if (job.name === SWEEP) {
      await sweep();
      return undefined;
    }
    if (job.name !== DRAIN) return undefined;
    const p = job.data as Partition;
    const ctx: DeliveryContext = {
      pool: pool as pg.Pool,
      sink,
      options: opts,
      limiter,
      metrics,
      logger,
      signal: abort.signal,
      stopping: () => stopping,
    };
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const outcome = await drainPartition(ctx, p, { lastAttempt });
    if (outcome.kind === 'drained' && outcome.delivered > 0) beat.lastDeliveryAt = Date.now();
    return outcome;
  }

  const limiter = new RateLimiter();

  function backoff(attemptsMade: number, _type: string | undefined, err: Error | undefined): number {
    const r = opts.retry;
    if (err instanceof RetryLater && err.failure === 'config') return r.configRetryMs;
    const ceiling = Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
    const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
    const retryAfter = err instanceof RetryLater ? (err.retryAfterMs ?? 0) : 0;
    return Math.round(Math.max(jittered, retryAfter));
  }

  function health(): HealthSnapshot {
    const now = Date.now();
    const hb = beat.lastSweepAt ? (now - beat.lastSweepAt) / 1000 : null;
    const ld = beat.lastDeliveryAt ? (now - beat.lastDeliveryAt) / 1000 : null;
    const staleBeat = hb === null || hb * 1000 > Math.max(10_000, 5 * opts.sweepIntervalMs);
    const progressAt = Math.max(beat.lastDeliveryAt, beat.pendingSince);
    const noProgress = beat.pendingPartitions > 0 && now - progressAt > opts.stuckAfterMs;
    const status: HealthSnapshot['status'] = stopping
      ? 'stopping'
      : staleBeat || noProgress
        ? 'stuck'
        : beat.pendingPartitions > 0
          ? 'delivering'
          : 'idle';
    return {
      status,
      heartbeatAgeSeconds: hb,
      lastDeliveryAgeSeconds: ld,
      pendingPartitions: beat.pendingPartitions,
    };
  }

  async function doStart(): Promise<void> {
    pool = new pg.Pool({ connectionString: opts.databaseUrl, max: opts.concurrency + 3 });
    pool.on('error', (e) => logger.warn({ error: e.message }, 'idle database connection lost'));
    // A client whose connection dies emits 'error', possibly more than once and while it is
    // checked out; unhandled, that would crash the process. The failing query reports the
    // error where it matters, so every client gets one no-op listener when it connects.
    pool.on('connect', (client) => client.on('error', () => {}));
    connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
    connection.on('error', (e) => logger.warn({ error: e.message }, 'redis connection error'));
    queue = new Queue(opts.queueName, { connection, prefix: opts.queuePrefix });
    queue.on('error', (e) => logger.warn({ error: e.message }, 'queue error'));
    // BullMQ closes only connections it created: both of ours are closed in stop().
    workerConnection = connection.duplicate();
    workerConnection.on('error', () => {});
    worker = new Worker(opts.queueName, processJob, {
      connection: workerConnection,
      prefix: opts.queuePrefix,
      concurrency: opts.concurrency,
      lockDuration: 15_000,
      stalledInterval: 5_000,
      maxStalledCount: 100,
      settings: { backoffStrategy: backoff },
    });
    worker.on('error', (e) => logger.warn({ error: e.message }, 'worker error'));
    worker.on('completed', (job, outcome: DrainOutcome | undefined) => {
      // A job that delivered something looks once more: a wake that arrived while it was
      // active was deduplicated away.
      if (!stopping && job.name === DRAIN && outcome?.kind === 'drained' && outcome.delivered > 0) {
        enqueue([job.data as Partition]).catch(() => {});
      }
    });
    worker.on('failed', (job, err) => {
      if (job)
        logger.debug(
          {
            stream: job.data?.stream,
            partition: job.data?.partitionKey,
            attempt: job.attemptsMade,
            error: err.message,
          },
          'drain attempt failed',
        );
    });
    if (opts.metricsPort !== undefined) {
      const h = await startHealthServer(metrics.registry, health, opts.metricsPort, opts.metricsHost);
      healthServer = h.server;
      metricsUrl = h.url;
    }
    const tick = async () => {
      // Watchdog: if the scheduled sweep has not run for a while (Redis flushed or
      // restarted, scheduler lost), recreate the scheduler and sweep from here.
      if (stopping) return;
      if (Date.now() - beat.lastSweepAt > Math.max(3000, 3 * opts.sweepIntervalMs)) {
        try {
          await ensureScheduler();
          await sweep();
        } catch (e) {
          logger.warn({ error: (e as Error).message }, 'sweep failed; will try again');
        }
      }
    };
    watchdog = setInterval(() => void tick(), Math.max(1000, opts.sweepIntervalMs));
    try {
      await ensureScheduler();
      await sweep();
    } catch (e) {
      logger.warn({ error: (e as Error).message }, 'first sweep failed; the watchdog retries');
    }
    logger.info(
      { schema: opts.schema, queue: opts.queueName, concurrency: opts.concurrency, metricsUrl },
      'relay started',
    );
  }

  async function doStop(): Promise<void> {
    stopping = true;
    if (watchdog) clearInterval(watchdog);
    await started?.catch(() => {});
    const grace = setTimeout(() => abort.abort(new Error('relay stopping')), opts.shutdownGraceMs);
    try {
      if (worker) {
        const closing = worker.close();
        const forced = await Promise.race([
          closing.then(() => false),
          delay(opts.shutdownGraceMs + 500).then(() => true),
        ]);
        if (forced) await worker.close(true).catch(() => {});
      }
    } finally {
      clearTimeout(grace);
    }
    await queue?.close().catch(() => {});
    connection?.disconnect();
    workerConnection?.disconnect();
    await pool?.end().catch(() => {});
    await sink.close?.().catch(() => {});
    if (healthServer) await new Promise((r) => healthServer?.close(() => r(undefined)));
    logger.info('relay stopped');
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
      let idleChecks = 0;
      while (!signal?.aborted && !stopping) {
        await delay(pollMs, signal);
        try {
          idleChecks = (await isIdle(pool as pg.Pool, opts.schema)) ? idleChecks + 1 : 0;
        } catch (e) {
          idleChecks = 0;
          logger.warn({ error: (e as Error).message }, 'idle check failed; will try again');
        }
        if (idleChecks >= 2) break;
      }
      await relay.stop();
    },
    async wake(partitions) {
      await enqueue(partitions.map((p) => ({ stream: p.stream, partitionKey: p.partitionKey })));
    },
    health,
  };
  return relay;
}
