import type pg from 'pg';
import { z } from 'zod';
import { assertSchemaName, DEFAULT_DB_SCHEMA } from '../config.js';
import { isStreamName, type StreamName, streams } from '../domain/catalog.js';
import { type EventEnvelope, type EventInput, toEnvelope } from '../domain/envelope.js';
import { LakehouseError, ValidationError, type ValidationIssue } from '../errors.js';
import { withTraceContext } from '../tracing/emitContext.js';
import { appendEvents, type EmitResult } from './appendEvents.js';
import { type AppendResult, appendToStream, type ExpectedVersion } from './appendToStream.js';
import { type Queryable, toExecutor } from './executor.js';
import { type PruneOptions, pruneDelivered } from './prune.js';
import { readStream, type StoredEvent } from './readStream.js';
import { type OutboxStatus, readStatus } from './status.js';
import { type OutboxTransaction, runFusedTransaction, type TransactionResult } from './transaction.js';

/** Options of {@link createOutbox}. */
export interface OutboxOptions {
  /** PostgreSQL schema of the outbox tables. Default: `LAKEHOUSE_DB_SCHEMA`, else `lakehouse`. */
  schema?: string;
  /**
   * Partition key field per stream (events with equal values are delivered in order).
   * Default: `tenant_id` for every stream.
   */
  partitionKeys?: Partial<Record<StreamName, string>>;
}

const optionsSchema = z.strictObject({
  schema: z.string().optional(),
  partitionKeys: z
    .record(z.string(), z.string())
    .optional()
    .superRefine((keys, ctx) => {
      for (const [stream, field] of Object.entries(keys ?? {})) {
        if (!isStreamName(stream))
          ctx.addIssue({ code: 'custom', message: `partitionKeys: unknown stream "${stream}"` });
        else if (!(field in streams[stream].schema.shape)) {
          ctx.addIssue({
            code: 'custom',
            message: `partitionKeys.${stream}: "${field}" is not a field of ${stream}`,
          });
        }
      }
    }),
});

/** Validates outbox options; fails fast naming the option. */
export function resolveOutboxOptions(options: OutboxOptions = {}): Required<OutboxOptions> {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new LakehouseError(
      'CONFIG',
      `Invalid outbox options: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
  return {
    schema: assertSchemaName(options.schema ?? (process.env.LAKEHOUSE_DB_SCHEMA || DEFAULT_DB_SCHEMA)),
    partitionKeys: options.partitionKeys ?? {},
  };
}

/** The outbox bound to a schema and partitioning. */
export interface Outbox {
  readonly schema: string;
  /**
   * Validates and writes events inside the caller's transaction (a drizzle transaction or a
   * `pg` client in BEGIN), in one statement. Events already stored (same `event_id`) are
   * reported as duplicates, not written again. Invalid input throws a ValidationError and
   * writes nothing. After COMMIT, wake the relay with the result's `partitions`.
   */
  emit(tx: Queryable, ...events: EventInput[]): Promise<EmitResult>;
  /** Appends to an event-sourced aggregate stream with optimistic concurrency. */
  appendToStream(
    tx: Queryable,
    aggregate: { type: string; id: string },
    events: EventEnvelope[],
    options?: { expectedVersion?: ExpectedVersion },
  ): Promise<AppendResult>;
  /** Reads an aggregate's events in version order. */
  readStream(
    db: Queryable,
    aggregate: { type: string; id: string },
    fromVersion?: number,
  ): Promise<StoredEvent[]>;
  /** Delivery state per stream. */
  status(db: Queryable): Promise<OutboxStatus>;
  /** Deletes delivered events older than a cutoff; never an undelivered one. Returns the count. */
  prune(db: Queryable, options: PruneOptions): Promise<number>;
  /** Validates inputs into envelopes (all or nothing), with this outbox's partitioning. */
  prepare(events: EventInput[]): EventEnvelope[];
  /**
   * Runs `fn` in a transaction on a `pg` pool or client and writes the events it emits
   * together with COMMIT, in one round trip (the cheapest way to emit). `tx.emit` validates
   * at once (a ValidationError rolls back) and buffers; `tx.client` runs the business
   * statements. Wake the relay with `emitted.partitions` after it returns.
   *
   * ```ts
   * const { emitted } = await outbox.transaction(pool, async (tx) => {
   *   await tx.client.query('INSERT INTO orders ...', [...]);
   *   tx.emit({ stream: 'orders', data: { ...order, tenant_id } });
   * });
   * ```
   */
  transaction<T>(
    db: pg.Pool | pg.PoolClient | pg.Client,
    fn: (tx: OutboxTransaction) => Promise<T>,
  ): Promise<TransactionResult<T>>;
}

/** Creates an {@link Outbox}. */
export function createOutbox(options: OutboxOptions = {}): Outbox {
  const opts = resolveOutboxOptions(options);
  const prepare = (inputs: EventInput[]): EventEnvelope[] => {
    const issues: ValidationIssue[] = [];
    const out: EventEnvelope[] = [];
    inputs.forEach((input, index) => {
      try {
        const stream = (input as { stream?: string })?.stream;
        const key = stream && isStreamName(stream) ? opts.partitionKeys[stream] : undefined;
        const withKey = key && !('partitionKey' in input) ? { ...input, partitionKey: key } : input;
        const env = toEnvelope(withKey as EventInput, inputs.length > 1 ? index : undefined);
        out.push({ ...env, metadata: withTraceContext(env.metadata) });
      } catch (e) {
        if (e instanceof ValidationError) issues.push(...e.issues);
        else throw e;
      }
    });
    if (issues.length > 0) throw new ValidationError(issues);
    return out;
  };
  return {
    schema: opts.schema,
    prepare,
    emit: (tx, ...events) => appendEvents(toExecutor(tx), opts.schema, prepare(events)),
    appendToStream: (tx, aggregate, events, o = {}) =>
      appendToStream(toExecutor(tx), opts.schema, aggregate, prepare(events), o.expectedVersion ?? 'any'),
    readStream: (db, aggregate, fromVersion) =>
      readStream(toExecutor(db), opts.schema, aggregate, fromVersion),
    status: (db) => readStatus(toExecutor(db), opts.schema),
    prune: (db, o) => pruneDelivered(toExecutor(db), opts.schema, o),
    transaction: (db, fn) => runFusedTransaction(db, opts.schema, prepare, fn),
  };
}

let defaultOutbox: Outbox | undefined;

/**
 * Writes events inside the caller's transaction with the default outbox (schema from
 * `LAKEHOUSE_DB_SCHEMA`). See {@link Outbox.emit}.
 *
 * ```ts
 * await db.transaction(async (tx) => {
 *   await tx.insert(orders).values(order);
 *   await emit(tx, { stream: 'orders', data: { ...order, tenant_id } });
 * });
 * ```
 */
export function emit(tx: Queryable, ...events: EventInput[]): Promise<EmitResult> {
  defaultOutbox ??= createOutbox();
  return defaultOutbox.emit(tx, ...events);
}
