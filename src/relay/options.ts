import type { Logger } from 'pino';
import { z } from 'zod';
import { assertSchemaName, envConfig } from '../config.js';
import type { StreamName } from '../domain/catalog.js';
import { defaultCatalog } from '../domain/defaultCatalog.js';
import type { Catalog } from '../domain/defineCatalog.js';
import { LakehouseError } from '../errors.js';
import type { Sink } from './sink.js';

/** Delivery settings of one stream. */
export interface StreamRelayOptions {
  /** Most records per request. Default 1,000. */
  maxBatchRecords?: number;
  /** Most bytes per request body, counted on the exact bytes sent. Default 1,000,000 (the Pipelines limit). */
  maxBatchBytes?: number;
  /** Bytes per second sent for this stream, per relay process. Default 5,000,000 (the Pipelines per-stream limit). */
  rateLimitBytesPerSecond?: number;
  /**
   * What a record the sink rejects (400/422) does: `'park'` (default) takes it out and keeps
   * the partition flowing; `'block'` stops the partition at it until an operator replays
   * or discards it (strict order).
   */
  onPoison?: 'park' | 'block';
}

export interface RetryOptions {
  /**
   * Attempts of one failing batch before it is parked as failed (counted per batch in
   * PostgreSQL: a delivered batch resets it). Default 10.
   */
  attempts?: number;
  /** First backoff delay in ms (doubles per attempt, full jitter). Default 500. */
  baseDelayMs?: number;
  /** Largest backoff delay in ms. Default 30,000. */
  maxDelayMs?: number;
  /** After the budget: slow automatic retry of a failed batch, in ms. Default 300,000 (5 min). */
  failedRetryMs?: number;
  /** Delay between retries of configuration errors (401/403/404). Default 30,000. */
  configRetryMs?: number;
}

/** Options of {@link createRelay}. */
export interface RelayOptions {
  /** Default `DATABASE_URL`. */
  databaseUrl?: string;
  /** Default `REDIS_URL`. */
  redisUrl?: string;
  /** Outbox schema. Default `LAKEHOUSE_DB_SCHEMA`, else `lakehouse`. */
  schema?: string;
  /** Where events go. Default: the HTTP sink configured by `LAKEHOUSE_SINK_URL` / `LAKEHOUSE_SINK_TOKEN`. */
  sink?: Sink;
  /** Drain loops of this process (lanes drained at once), each with its own connection. Default 4. */
  concurrency?: number;
  /** @deprecated No effect: drain loops take ready lanes from the process's scheduler, nothing polls. */
  lingerMs?: number;
  /** @deprecated No effect (see `lingerMs`). */
  lingerPollMs?: number;
  /** A lane with work is let go (and queued again) after this long when other lanes are ready, in ms. Default 2,000. */
  laneHoldMs?: number;
  /**
   * Client-side timeout of each relay query, in ms: a half-open database connection fails
   * the lane in seconds (the connection is destroyed, its lock dies server-side through TCP
   * keepalive) instead of hanging it. Default 15,000.
   */
  queryTimeoutMs?: number;
  /**
   * The streams delivered: the default sink checks each record against its stream's schema,
   * and a stream's own `onPoison` applies unless `streams` overrides it. Default: the
   * default catalog (Company Manager's six streams).
   */
  catalog?: Catalog;
  /** Settings for every stream, overridden per stream by the catalog's `onPoison`, then by `streams`. */
  defaults?: StreamRelayOptions;
  /** Settings per stream of the catalog. */
  streams?: Partial<Record<StreamName, StreamRelayOptions>> & Record<string, StreamRelayOptions>;
  retry?: RetryOptions;
  /** How often the sweep looks for lanes with pending events, in ms. Default 1,000. */
  sweepIntervalMs?: number;
  /** BullMQ queue name. Default `lakehouse-relay-<schema>`. */
  queueName?: string;
  /** BullMQ key prefix. Default `bull`. */
  queuePrefix?: string;
  /** Port for `/metrics` and `/healthz` (0 = any free port); off when undefined. */
  metricsPort?: number;
  /** Host for the metrics server. Default 127.0.0.1. */
  metricsHost?: string;
  /** Pending events with no delivery for this long make `/healthz` report "stuck". Default 60,000 ms. */
  stuckAfterMs?: number;
  /** Grace period on stop before in-flight requests are aborted, in ms. Default 8,000. */
  shutdownGraceMs?: number;
  logger?: Logger;
}

const positive = z.number().int().positive();
const streamOptions = z.strictObject({
  maxBatchRecords: positive.max(100_000).optional(),
  maxBatchBytes: positive.min(1024).optional(),
  rateLimitBytesPerSecond: positive.optional(),
  onPoison: z.enum(['park', 'block']).optional(),
});
const schema = z.looseObject({
  concurrency: positive.max(256).optional(),
  lingerMs: z.number().int().min(0).optional(),
  lingerPollMs: positive.optional(),
  laneHoldMs: positive.optional(),
  queryTimeoutMs: positive.min(100).optional(),
  defaults: streamOptions.optional(),
  streams: z.record(z.string(), streamOptions).optional(),
  retry: z
    .strictObject({
      attempts: positive.max(1000).optional(),
      baseDelayMs: positive.optional(),
      maxDelayMs: positive.optional(),
      failedRetryMs: positive.optional(),
      configRetryMs: positive.optional(),
    })
    .optional(),
  sweepIntervalMs: positive.min(50).optional(),
  metricsPort: z.number().int().min(0).max(65535).optional(),
  stuckAfterMs: positive.optional(),
  shutdownGraceMs: z.number().int().min(0).optional(),
});

export type ResolvedStreamOptions = Required<StreamRelayOptions>;

export interface ResolvedRelayOptions {
  databaseUrl: string;
  redisUrl: string;
  schema: string;
  concurrency: number;
  laneHoldMs: number;
  queryTimeoutMs: number;
  retry: Required<RetryOptions>;
  sweepIntervalMs: number;
  queueName: string;
  queuePrefix: string;
  metricsPort: number | undefined;
  metricsHost: string;
  stuckAfterMs: number;
  shutdownGraceMs: number;
  catalog: Catalog;
  stream(name: string): ResolvedStreamOptions;
}

const STREAM_DEFAULTS: ResolvedStreamOptions = {
  maxBatchRecords: 1000,
  maxBatchBytes: 1_000_000,
  rateLimitBytesPerSecond: 5_000_000,
  onPoison: 'park',
};

/** Validates relay options (fails fast naming the option) and fills in the defaults. */
export function resolveRelayOptions(options: RelayOptions = {}): ResolvedRelayOptions {
  const { sink: _sink, logger: _logger, catalog = defaultCatalog, ...plain } = options;
  const parsed = schema.safeParse(plain);
  if (!parsed.success) {
    const detail = parsed.error.issues
      .map((i) => `${i.path.join('.') || 'options'}: ${i.message}`)
      .join('; ');
    throw new LakehouseError('CONFIG', `Invalid relay options: ${detail}`);
  }
  const unknown = Object.keys(options.streams ?? {}).filter((n) => !catalog.has(n));
  if (unknown.length > 0) {
    throw new LakehouseError(
      'CONFIG',
      `Invalid relay options: streams.${unknown[0]}: no such stream in the catalog (streams: ${catalog.names.join(', ')})`,
    );
  }
  const env = envConfig();
  const schemaName = assertSchemaName(options.schema ?? env.schema);
  const defaults = { ...STREAM_DEFAULTS, ...options.defaults };
  return {
    databaseUrl: options.databaseUrl ?? env.databaseUrl,
    redisUrl: options.redisUrl ?? env.redisUrl,
    schema: schemaName,
    concurrency: options.concurrency ?? 4,
    laneHoldMs: options.laneHoldMs ?? 2000,
    queryTimeoutMs: options.queryTimeoutMs ?? 15_000,
    retry: {
      attempts: 10,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      failedRetryMs: 300_000,
      configRetryMs: 30_000,
      ...options.retry,
    },
    sweepIntervalMs: options.sweepIntervalMs ?? 1000,
    queueName: options.queueName ?? `lakehouse-relay-${schemaName}`,
    queuePrefix: options.queuePrefix ?? 'bull',
    metricsPort: options.metricsPort,
    metricsHost: options.metricsHost ?? '127.0.0.1',
    stuckAfterMs: options.stuckAfterMs ?? 60_000,
    shutdownGraceMs: options.shutdownGraceMs ?? 8000,
    catalog,
    stream: (name) => {
      const own = catalog.get(name)?.onPoison;
      return { ...defaults, ...(own ? { onPoison: own } : {}), ...options.streams?.[name] };
    },
  };
}
