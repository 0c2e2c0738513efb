import type pg from 'pg';
import { v5 as uuidv5 } from 'uuid';
import type { StreamName } from '../domain/catalog.js';
import { defaultCatalog } from '../domain/defaultCatalog.js';
import type { Catalog } from '../domain/defineCatalog.js';
import type { LakeStream } from '../domain/defineStream.js';
import { createEvent, type EventEnvelope } from '../domain/envelope.js';
import { LakehouseError, ValidationError } from '../errors.js';
import type { Outbox } from '../outbox/outbox.js';
import type { PartitionRef } from '../outbox/rows.js';

/** Namespace of backfill event ids: UUIDv5(stream + source key) under it is stable across runs. */
export const BACKFILL_NAMESPACE = '2b7f3c1e-8a4d-5e6f-9b0c-1d2e3f4a5b6c';

/** The id field of the streams that have one: the default source key. */
export const DEFAULT_KEYS: Partial<Record<StreamName, string>> = {
  orders: 'order_id',
  agent_decisions: 'decision_id',
  api_calls: 'request_id',
};

/** Options of {@link backfill}. */
export interface BackfillOptions {
  pool: pg.Pool;
  /** An outbox over the same catalog. */
  outbox: Outbox;
  /** A stream of `catalog`. */
  stream: string;
  /** The streams (default: the default catalog). */
  catalog?: Catalog;
  /** One SELECT whose columns are named like the stream's fields. */
  sql: string;
  /** Columns whose values identify a source row. Default: the stream's id field ({@link DEFAULT_KEYS}). */
  keys?: string[];
  /** Rows per fetch and per write transaction. Default 1,000. */
  batchSize?: number;
  /** Validate only; write nothing. */
  dryRun?: boolean;
  /** Event type of the backfilled events. Default `<stream default>` (e.g. `order.recorded`). */
  eventType?: string;
  /** Stops after the current batch (its transaction commits or rolls back as a whole). */
  signal?: AbortSignal;
  /** Called for each row that fails validation; the rest goes on. */
  onReject?: (reject: BackfillReject) => void;
  onProgress?: (p: BackfillProgress) => void;
  /** Called after each committed batch with its partitions (wake the relay). */
  onCommit?: (partitions: PartitionRef[]) => Promise<void>;
}

export interface BackfillReject {
  /** 1-based row number in the SELECT's order. */
  row: number;
  key: Record<string, unknown>;
  error: string;
}

export interface BackfillProgress {
  total: number;
  read: number;
  written: number;
  duplicates: number;
  rejected: number;
}

export interface BackfillSummary extends Omit<BackfillProgress, 'total'> {
  interrupted: boolean;
}

// pg returns numeric and bigint as strings (exactness); the stream schemas take numbers.
const NUMERIC_TYPES = new Set([20, 1700]);

const COUNT_PREFIX = 'SELECT count(*) AS n FROM (';

/**
 * Runs the user's SELECT for the first time (counting its rows): a PostgreSQL error here is
 * a mistake in `--sql`, reported as such with the position in the user's text.
 */
async function countSourceRows(reader: pg.PoolClient, sql: string) {
  try {
    return await reader.query<{ n: string }>(`${COUNT_PREFIX}${sql}) AS backfill_source`);
  } catch (e) {
    const pgErr = e as Error & { code?: string; position?: string };
    if (!pgErr.code || !/^(42|22|0A)/.test(pgErr.code)) throw e;
    const at = Number(pgErr.position) - COUNT_PREFIX.length;
    const where = at > 0 && at <= sql.length ? ` at character ${at} ("${sql.slice(at - 1, at + 19)}")` : '';
    throw new LakehouseError('CONFIG', `--sql is not a valid query: ${pgErr.message}${where}`, { cause: e });
  }
}

/**
 * Loads history from production tables into the outbox. Reads with a server-side cursor in
 * a READ ONLY transaction (constant memory, one consistent snapshot for the whole run) and
 * writes each batch in its own transaction on another connection. Event ids are UUIDv5 of
 * the stream and the source key, and emit skips ids it already has, so a re-run after an
 * interruption writes only what is missing and never duplicates.
 */
export async function backfill(o: BackfillOptions): Promise<BackfillSummary> {
  const catalog = o.catalog ?? defaultCatalog;
  const def = catalog.get(o.stream);
  if (!def) {
    throw new LakehouseError(
      'CONFIG',
      `unknown stream "${o.stream}"; known streams: ${catalog.names.join(', ')}`,
    );
  }
  const defaultKey = DEFAULT_KEYS[o.stream as StreamName];
  const keys = o.keys ?? (defaultKey ? [defaultKey] : undefined);
  if (!keys || keys.length === 0) {
    throw new LakehouseError(
      'CONFIG',
      `stream ${o.stream} has no id field: name the columns that identify a source row with --key col1,col2`,
    );
  }
  const batchSize = o.batchSize ?? 1000;
  const sql = o.sql.trim().replace(/;\s*$/, '');
  const reader = await o.pool.connect();
  const p: BackfillProgress = { total: 0, read: 0, written: 0, duplicates: 0, rejected: 0 };
  try {
    const counted = await countSourceRows(reader, sql);
    p.total = Number(counted.rows[0]?.n ?? 0);
    o.onProgress?.({ ...p });
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await reader.query(`DECLARE backfill_cursor NO SCROLL CURSOR FOR ${sql}`);
    let checked = false;
    while (!o.signal?.aborted) {
      const res = await reader.query(`FETCH ${batchSize} FROM backfill_cursor`);
      if (!checked) {
        checkColumns(
          def,
          keys,
          res.fields.map((f) => f.name),
        );
        checked = true;
      }
      if (res.rows.length === 0) break;
      const numeric = res.fields.filter((f) => NUMERIC_TYPES.has(f.dataTypeID)).map((f) => f.name);
      const events: EventEnvelope[] = [];
      for (const raw of res.rows as Record<string, unknown>[]) {
        const row = ++p.read;
        const keyValues = Object.fromEntries(keys.map((k) => [k, raw[k]]));
        try {
          const missing = keys.filter((k) => raw[k] === null || raw[k] === undefined);
          if (missing.length > 0) throw new Error(`key column ${missing.join(', ')} is null`);
          const data: Record<string, unknown> = {};
          for (const field of Object.keys(def.schema.shape)) {
            if (!(field in raw)) continue;
            const v = raw[field];
            data[field] = numeric.includes(field) && typeof v === 'string' ? Number(v) : v;
          }
          events.push(
            createEvent(
              o.stream as StreamName,
              data as never,
              {
                eventId: keyedEventId(
                  o.stream,
                  keys.map((k) => raw[k]),
                ),
                eventType: o.eventType,
              },
              catalog,
            ),
          );
        } catch (e) {
          if (!(e instanceof ValidationError) && !(e instanceof Error && /key column/.test(e.message)))
            throw e;
          p.rejected++;
          o.onReject?.({ row, key: keyValues, error: (e as Error).message });
        }
      }
      if (!o.dryRun && events.length > 0) {
        const writer = await o.pool.connect();
        let partitions: PartitionRef[] = [];
        try {
          await writer.query('BEGIN');
          const r = await o.outbox.emit(writer, ...events);
          await writer.query('COMMIT');
          p.written += r.written;
          p.duplicates += r.duplicates.length;
          partitions = r.partitions;
        } catch (e) {
          await writer.query('ROLLBACK').catch(() => {});
          throw e;
        } finally {
          writer.release();
        }
        await o.onCommit?.(partitions);
      }
      o.onProgress?.({ ...p });
    }
    await reader.query('CLOSE backfill_cursor');
    await reader.query('COMMIT');
  } catch (e) {
    await reader.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    reader.release();
  }
  const { total: _total, ...rest } = p;
  return { ...rest, interrupted: o.signal?.aborted === true && p.read < p.total };
}

/**
 * The event id of a source record identified by key values: UUIDv5 of the stream and the
 * values (dates as ISO-8601), so loading the same record again, by `backfill` or by
 * `emit --key`, is a duplicate and is skipped.
 */
export function keyedEventId(stream: string, values: unknown[]): string {
  return uuidv5(`${stream}\u001f${values.map(keyString).join('\u001f')}`, BACKFILL_NAMESPACE);
}

function keyString(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

/** Every column must be a field of the stream (or a key column); the key columns must be there. */
function checkColumns(def: LakeStream, keys: string[], columns: string[]): void {
  const stream = def.name;
  const fields = Object.keys(def.schema.shape);
  const extra = columns.filter((c) => !fields.includes(c) && !keys.includes(c));
  if (extra.length > 0) {
    throw new LakehouseError(
      'CONFIG',
      `the SELECT has column(s) ${extra.join(', ')} that are not fields of ${stream}; ` +
        `rename them with AS or leave them out (fields: ${fields.join(', ')})`,
    );
  }
  const missingKeys = keys.filter((k) => !columns.includes(k));
  if (missingKeys.length > 0) {
    throw new LakehouseError(
      'CONFIG',
      `key column(s) ${missingKeys.join(', ')} are not in the SELECT (columns: ${columns.join(', ')})`,
    );
  }
}
