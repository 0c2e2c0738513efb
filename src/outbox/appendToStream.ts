import type { EventEnvelope } from '../domain/envelope.js';
import { ConcurrencyError, LakehouseError } from '../errors.js';
import { type Executor, ident } from './executor.js';
import {
  EVENT_COLUMNS,
  EVENT_SELECT,
  type PartitionRef,
  partitionsOf,
  pendingInsert,
  toRowJson,
} from './rows.js';

/** Expected version of an aggregate stream: a number (0 = must not exist yet) or `'any'`. */
export type ExpectedVersion = number | 'any';

export interface AppendResult {
  /** Version of the stream after the append (its last event's version). */
  nextVersion: number;
  written: number;
  /** True when every event was already stored (an idempotent retry): nothing was written. */
  duplicate: boolean;
  partitions: PartitionRef[];
}

/**
 * Appends events to an event-sourced aggregate stream with optimistic concurrency, in the
 * caller's transaction, in one statement.
 *
 * The version row is the serialization point: a conditional UPDATE (or INSERT for a new
 * stream) takes its row lock; a concurrent appender with the same expected version waits,
 * then re-checks `version = $expected` against the committed row, matches nothing and
 * inserts no event (the CTE inserts events only if the version statement returned a row).
 * So a conflict writes nothing and leaves the caller's transaction usable.
 */
export async function appendToStream(
  exec: Executor,
  schema: string,
  aggregate: { type: string; id: string },
  events: EventEnvelope[],
  expected: ExpectedVersion,
): Promise<AppendResult> {
  if (events.length === 0) throw new LakehouseError('VALIDATION', 'appendToStream needs at least one event');
  if (expected !== 'any' && (!Number.isInteger(expected) || expected < 0)) {
    throw new LakehouseError(
      'VALIDATION',
      `expectedVersion must be a non-negative integer or 'any', got ${expected}`,
    );
  }
  const s = ident(schema);
  const n = events.length;
  const ids = events.map((e) => e.event_id);
  const noDup = `NOT EXISTS (SELECT 1 FROM ${s}.events WHERE event_id = ANY($5::uuid[]))`;
  const versionSql =
    expected === 'any'
      ? `INSERT INTO ${s}.aggregate_streams AS a (stream_type, stream_id, version)
         SELECT $2, $3, $4::int WHERE ${noDup}
         ON CONFLICT (stream_type, stream_id) DO UPDATE SET version = a.version + EXCLUDED.version, updated_at = now()
         RETURNING version`
      : expected === 0
        ? `INSERT INTO ${s}.aggregate_streams (stream_type, stream_id, version)
           SELECT $2, $3, $4::int WHERE ${noDup} AND $6::int = 0
           ON CONFLICT (stream_type, stream_id) DO NOTHING
           RETURNING version`
        : `UPDATE ${s}.aggregate_streams SET version = version + $4::int, updated_at = now()
           WHERE stream_type = $2 AND stream_id = $3 AND version = $6::int AND ${noDup}
           RETURNING version`;
  const rows = await exec<{ version: number | null; written: string }>(
    `WITH v AS (${versionSql}),
     ins AS (
       INSERT INTO ${s}.events (${EVENT_COLUMNS}, aggregate_type, aggregate_id, aggregate_version)
       SELECT ${EVENT_SELECT}, $2, $3, (SELECT version FROM v) - $4::int + ord::int
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(e, ord)
       WHERE EXISTS (SELECT 1 FROM v)
       ORDER BY ord
       RETURNING position, stream, partition_key
     ), q AS (${pendingInsert(s)})
     SELECT (SELECT version FROM v) AS version, (SELECT count(*) FROM ins) AS written`,
    [
      JSON.stringify(events.map((e) => toRowJson({ ...e, aggregate: aggregate }))),
      aggregate.type,
      aggregate.id,
      n,
      ids,
      expected === 'any' ? 0 : expected,
    ],
  );
  const version = rows[0]?.version;
  if (version !== null && version !== undefined) {
    return {
      nextVersion: Number(version),
      written: Number(rows[0]?.written),
      duplicate: false,
      partitions: partitionsOf(events),
    };
  }
  // Nothing written: tell an idempotent retry from a real conflict.
  const [diag] = await exec<{ version: number | null; dups: string }>(
    `SELECT (SELECT version FROM ${s}.aggregate_streams WHERE stream_type = $1 AND stream_id = $2) AS version,
            (SELECT count(*) FROM ${s}.events WHERE event_id = ANY($3::uuid[])) AS dups`,
    [aggregate.type, aggregate.id, ids],
  );
  const dups = Number(diag?.dups ?? 0);
  const actual = diag?.version ?? undefined;
  if (dups === n) return { nextVersion: Number(actual ?? 0), written: 0, duplicate: true, partitions: [] };
  if (dups > 0) {
    throw new LakehouseError(
      'VALIDATION',
      `${dups} of ${n} events for ${aggregate.type} "${aggregate.id}" reuse stored event_ids with new events; nothing was written`,
    );
  }
  throw new ConcurrencyError(
    aggregate.type,
    aggregate.id,
    expected === 'any' ? -1 : expected,
    actual ?? undefined,
  );
}
