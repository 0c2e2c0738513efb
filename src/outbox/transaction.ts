import type pg from 'pg';
import type { EventEnvelope, EventInput } from '../domain/envelope.js';
import { appendEventsSql, type EmitResult } from './appendEvents.js';
import { ident } from './executor.js';
import { partitionsOf, toRowJson } from './rows.js';

/** The transaction handed to the callback of `outbox.transaction`. */
export interface OutboxTransaction {
  /** The connection in the transaction: run the business statements on it. */
  readonly client: pg.PoolClient | pg.Client;
  /** Validates events now and buffers them; they are written together with COMMIT. */
  emit(...events: EventInput[]): void;
}

/** What a fused transaction returns: the callback's value and what its events' write did. */
export interface TransactionResult<T> {
  result: T;
  emitted: EmitResult;
}

type Connectable = pg.Pool | pg.PoolClient | pg.Client;

const isPool = (db: Connectable): db is pg.Pool =>
  typeof (db as pg.Pool).connect === 'function' && typeof (db as pg.Pool).totalCount === 'number';

/**
 * Runs `fn` in a transaction and writes its buffered events in the same round trip as
 * COMMIT: one simple-protocol message `INSERT ...; COMMIT` (the events travel as one
 * escaped JSON literal, `escapeLiteral` of the pg client). If the insert fails, PostgreSQL
 * skips the COMMIT of the message, and the transaction is rolled back: all or nothing, as
 * with `emit` inside the caller's transaction. With no events, it is a plain COMMIT.
 */
export async function runFusedTransaction<T>(
  db: Connectable,
  schema: string,
  prepare: (events: EventInput[]) => EventEnvelope[],
  fn: (tx: OutboxTransaction) => Promise<T>,
): Promise<TransactionResult<T>> {
  const client = isPool(db) ? await db.connect() : db;
  const buffered: EventEnvelope[] = [];
  try {
    await client.query('BEGIN');
    const result = await fn({ client, emit: (...events) => buffered.push(...prepare(events)) });
    const emitted = await commitWithEvents(client, schema, buffered);
    return { result, emitted };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    if (isPool(db)) (client as pg.PoolClient).release();
  }
}

async function commitWithEvents(
  client: pg.PoolClient | pg.Client,
  schema: string,
  events: EventEnvelope[],
): Promise<EmitResult> {
  if (events.length === 0) {
    await client.query('COMMIT');
    return { written: 0, duplicates: [], positions: [], partitions: [] };
  }
  const json = client.escapeLiteral(JSON.stringify(events.map((e) => toRowJson(e))));
  const sql = `${appendEventsSql(ident(schema)).replace('$1::jsonb', `${json}::jsonb`)}; COMMIT`;
  const results = (await client.query(sql)) as unknown as pg.QueryResult[];
  if (!Array.isArray(results) || results.length !== 2) {
    throw new Error('outbox.transaction: unexpected answer to INSERT; COMMIT');
  }
  const rows = (results[0] as pg.QueryResult).rows as {
    event_id: string;
    position: string;
    stream: string;
    partition_key: string;
    lane: number;
  }[];
  const stored = new Set(rows.map((r) => r.event_id));
  const duplicates = events.filter((e) => !stored.delete(e.event_id)).map((e) => e.event_id);
  return {
    written: rows.length,
    duplicates,
    positions: rows.map((r) => Number(r.position)),
    partitions: partitionsOf(rows),
  };
}
