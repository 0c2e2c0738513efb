import type pg from 'pg';
import { z } from 'zod';
import { assertSchemaName, DEFAULT_DB_SCHEMA } from '../config.js';
import type { StreamName } from '../domain/catalog.js';
import { type DefaultCatalog, defaultCatalog } from '../domain/defaultCatalog.js';
import type { Catalog, CatalogEvent } from '../domain/defineCatalog.js';
import {
  type CreateEventOptions,
  type EventEnvelope,
  type EventInput,
  toEnvelope,
} from '../domain/envelope.js';
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
export interface OutboxOptions<C extends Catalog = Catalog> {
  /** PostgreSQL schema of the outbox tables. Default: `LAKEHOUSE_DB_SCHEMA`, else `lakehouse`. */
  schema?: string;
  /**
   * The streams events are validated against (a `lakehouse.config.ts` catalog, see
   * `loadConfig`); each event records its stream's `schemaVersion`. Default: the default
   * catalog (Company Manager's six streams).
   */
  catalog?: C;
  /**
   * Partition key field per stream (events with equal values are delivered in order).
   * Default: each stream's `partitionKey` (`tenant_id` unless the catalog says otherwise).
   */
  partitionKeys?: Partial<Record<StreamName, string>> & Record<string, string>;
}

/** What a typed `emit` of an outbox over catalog `C` takes: an envelope, or `{ stream, data }` typed by `C`. */
export type CatalogEventInput<C> = EventInput | EventEnvelope | (CatalogEvent<C> & CreateEventOptions);

function optionsSchema(catalog: Catalog) {
  return z.looseObject({
    schema: z.string().optional(),
    partitionKeys: z
      .record(z.string(), z.string())
      .optional()
      .superRefine((keys, ctx) => {
        for (const [stream, field] of Object.entries(keys ?? {})) {
          const def = catalog.get(stream);
          if (!def) ctx.addIssue({ code: 'custom', message: `partitionKeys: unknown stream "${stream}"` });
          else if (!(field in def.schema.shape)) {
            ctx.addIssue({
              code: 'custom',
              message: `partitionKeys.${stream}: "${field}" is not a field of ${stream}`,
            });
          }
        }
      }),
  });
}

/** Validates outbox options; fails fast naming the option. */
export function resolveOutboxOptions<C extends Catalog>(
  options: OutboxOptions<C> = {},
): Required<OutboxOptions<C>> {
  const { catalog = defaultCatalog as Catalog as C, ...rest } = options;
  const unknown = Object.keys(rest).filter((k) => k !== 'schema' && k !== 'partitionKeys');
  if (unknown.length > 0) {
    throw new LakehouseError('CONFIG', `Invalid outbox options: unknown option ${unknown.join(', ')}`);
  }
  const parsed = optionsSchema(catalog).safeParse(rest);
  if (!parsed.success) {
    throw new LakehouseError(
      'CONFIG',
      `Invalid outbox options: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    );
  }
  return {
    schema: assertSchemaName(options.schema ?? (process.env.LAKEHOUSE_DB_SCHEMA || DEFAULT_DB_SCHEMA)),
    catalog,
    partitionKeys: options.partitionKeys ?? {},
  };
}

/**
 * The outbox bound to a schema, a catalog and partitioning. `E` is what `emit` takes: with
 * `createOutbox({ catalog })`, `{ stream, data }` typed by that catalog's zod schemas.
 */
export interface Outbox<E = EventInput> {
  readonly schema: string;
  /**
   * Validates and writes events inside the caller's transaction (a drizzle transaction or a
   * `pg` client in BEGIN), in one statement. Events already stored (same `event_id`) are
   * reported as duplicates, not written again. Invalid input throws a ValidationError and
   * writes nothing. After COMMIT, wake the relay with the result's `partitions`.
   */
  emit(tx: Queryable, ...events: E[]): Promise<EmitResult>;
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
  prepare(events: E[]): EventEnvelope[];
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

/**
 * Creates an {@link Outbox}. With `catalog` (e.g. `(await loadConfig()).catalog`, or the
 * catalog your `lakehouse.config.ts` exports), events are validated against its streams and
 * `emit` is typed by them.
 */
export function createOutbox<C extends Catalog = DefaultCatalog>(
  options: OutboxOptions<C> = {},
): Outbox<CatalogEventInput<C>> {
  const opts = resolveOutboxOptions(options);
  const prepare = (inputs: CatalogEventInput<C>[]): EventEnvelope[] => {
    const issues: ValidationIssue[] = [];
    const out: EventEnvelope[] = [];
    inputs.forEach((input, index) => {
      try {
        const stream = (input as { stream?: string })?.stream;
        const key = stream && opts.catalog.has(stream) ? opts.partitionKeys[stream] : undefined;
        const withKey = key && !('partitionKey' in input) ? { ...input, partitionKey: key } : input;
        const env = toEnvelope(withKey as EventInput, inputs.length > 1 ? index : undefined, opts.catalog);
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
    status: (db) => readStatus(toExecutor(db), opts.schema, opts.catalog.names),
    prune: (db, o) => pruneDelivered(toExecutor(db), opts.schema, { catalog: opts.catalog, ...o }),
    transaction: (db, fn) => runFusedTransaction(db, opts.schema, prepare, fn),
  };
}

let defaultOutbox: Outbox<CatalogEventInput<DefaultCatalog>> | undefined;

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
