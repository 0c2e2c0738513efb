import { defaultCatalog } from '../domain/defaultCatalog.js';
import { laneLockClass } from '../relay/laneLock.js';
import { type Executor, ident } from './executor.js';

/** Delivery state of one stream, as `lakehouse status --json` prints it. */
export interface StreamStatus {
  stream: string;
  /** Committed events not yet acknowledged by the sink (includes `held`, excludes `parked`). */
  pending: number;
  /** Pending events of lanes that wait on a failed batch, or of partitions stopped at a poison block. */
  held: number;
  /** Batches being sent right now (lanes whose delivery lock is held). */
  inFlight: number;
  /** Events acknowledged by the sink (counted by the relay; pruning does not lower it). */
  delivered: number;
  /** Events taken out of delivery as poison, waiting for `lakehouse replay` or discard. */
  parked: number;
  /** Lanes whose head batch ran out of retries; retried slowly, or at once by `replay`. */
  failedBatches: number;
  /** Partitions stopped at a poison record (`onPoison: 'block'`). */
  blockedPartitions: number;
  /** Age of the oldest pending event, in seconds (0 when none): the lag. */
  oldestPendingAgeSeconds: number;
  /** When the sink last acknowledged a batch of this stream (ISO-8601), or null. */
  lastDeliveredAt: string | null;
  /** Events delivered per second over the last minute. */
  throughputPerSecond: number;
  /** Events sent again after a crash, timeout or retry (at-least-once duplicates, at most). */
  duplicatesResent: number;
  /** Last error of a lane or blocked partition of this stream, if any is failing now. */
  lastError: string | null;
}

export interface OutboxStatus {
  streams: StreamStatus[];
}

type Row = Record<string, string | number | null>;

/** Per stream, the newer of the lanes' and the blocked partitions' last errors. */
function latestError(lanes: Row[], blocked: Row[]): Map<string, unknown> {
  const out = new Map<string, { error: unknown; at: number }>();
  for (const r of [...lanes, ...blocked]) {
    if (r.last_error === null || r.last_error === undefined) continue;
    const at = r.last_error_at ? new Date(r.last_error_at as string).getTime() : 0;
    const prev = out.get(String(r.stream));
    if (!prev || at > prev.at) out.set(String(r.stream), { error: r.last_error, at });
  }
  return new Map([...out].map(([k, v]) => [k, v.error]));
}

/**
 * Reads the delivery state of every stream. Plain aggregate queries over the narrow tables;
 * the in-flight count reads the relay's session advisory locks from `pg_locks`, so it is
 * right even after a relay was killed (its locks die with its connection).
 */
export async function readStatus(
  exec: Executor,
  schema: string,
  streamNames: readonly string[] = defaultCatalog.names,
): Promise<OutboxStatus> {
  const s = ident(schema);
  const [pending, held, oldest, parked, parts, blocked, recent, locks] = await Promise.all([
    exec<Row>(`SELECT stream, count(*) AS n FROM ${s}.pending GROUP BY stream`),
    exec<Row>(
      `SELECT pe.stream, count(*) AS n FROM ${s}.pending pe
         LEFT JOIN ${s}.lanes l ON l.stream = pe.stream AND l.lane = pe.lane
        WHERE l.failed_at IS NOT NULL
           OR pe.partition_key IN (SELECT partition_key FROM ${s}.partitions b
                                    WHERE b.stream = pe.stream AND b.blocked_position IS NOT NULL)
        GROUP BY pe.stream`,
    ),
    exec<Row>(
      `SELECT m.stream, extract(epoch FROM now() - e.created_at)::float8 AS age
         FROM (SELECT stream, min(position) AS position FROM ${s}.pending GROUP BY stream) m
         JOIN ${s}.events e ON e.position = m.position`,
    ),
    exec<Row>(`SELECT stream, count(*) AS n FROM ${s}.parked GROUP BY stream`),
    exec<Row>(
      `SELECT stream, sum(delivered_count) AS delivered, sum(resent_count) AS resent,
              max(last_delivered_at) AS last_delivered_at,
              count(*) FILTER (WHERE failed_at IS NOT NULL) AS failed,
              (array_agg(last_error ORDER BY last_error_at DESC NULLS LAST)
                 FILTER (WHERE last_error IS NOT NULL AND (failed_at IS NOT NULL
                   OR last_error_at > coalesce(last_delivered_at, '-infinity'))))[1] AS last_error,
              max(last_error_at) FILTER (WHERE last_error IS NOT NULL AND (failed_at IS NOT NULL
                   OR last_error_at > coalesce(last_delivered_at, '-infinity'))) AS last_error_at
         FROM ${s}.lanes GROUP BY stream`,
    ),
    exec<Row>(
      `SELECT stream, count(*) AS blocked,
              (array_agg(last_error ORDER BY last_error_at DESC NULLS LAST))[1] AS last_error,
              max(last_error_at) AS last_error_at
         FROM ${s}.partitions WHERE blocked_position IS NOT NULL GROUP BY stream`,
    ),
    exec<Row>(
      `SELECT stream, sum(events) AS n FROM ${s}.delivery_log
        WHERE minute >= date_trunc('minute', now()) - interval '1 minute' GROUP BY stream`,
    ),
    exec<Row>(
      `SELECT la.stream, count(*) AS n
         FROM pg_locks l
         JOIN ${s}.lanes la
           ON l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND l.classid::bigint = (hashtext($1)::bigint & 4294967295)
          AND l.objid::bigint = (hashtext(la.stream || '/' || la.lane)::bigint & 4294967295)
        GROUP BY la.stream`,
      [laneLockClass(schema)],
    ),
  ]);
  const by = (rows: Row[], col: string) => new Map(rows.map((r) => [String(r.stream), r[col]]));
  const maps = {
    pending: by(pending, 'n'),
    held: by(held, 'n'),
    age: by(oldest, 'age'),
    parked: by(parked, 'n'),
    delivered: by(parts, 'delivered'),
    resent: by(parts, 'resent'),
    last: by(parts, 'last_delivered_at'),
    failed: by(parts, 'failed'),
    blocked: by(blocked, 'blocked'),
    lastError: latestError(parts, blocked),
    recent: by(recent, 'n'),
    locks: by(locks, 'n'),
  };
  const num = (m: Map<string, unknown>, k: string) => Number(m.get(k) ?? 0);
  const names = new Set<string>([...streamNames, ...maps.pending.keys(), ...maps.delivered.keys()]);
  return {
    streams: [...names].map((stream) => {
      const last = maps.last.get(stream);
      return {
        stream,
        pending: num(maps.pending, stream),
        held: num(maps.held, stream),
        inFlight: num(maps.locks, stream),
        delivered: num(maps.delivered, stream),
        parked: num(maps.parked, stream),
        failedBatches: num(maps.failed, stream),
        blockedPartitions: num(maps.blocked, stream),
        oldestPendingAgeSeconds: Math.max(0, Math.round(num(maps.age, stream) * 1000) / 1000),
        lastDeliveredAt: last ? new Date(last as string).toISOString() : null,
        throughputPerSecond: Math.round((num(maps.recent, stream) / 60) * 10) / 10,
        duplicatesResent: num(maps.resent, stream),
        lastError: (maps.lastError.get(stream) as string | null | undefined) ?? null,
      };
    }),
  };
}
