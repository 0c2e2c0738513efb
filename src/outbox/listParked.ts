import { type Executor, ident } from './executor.js';

/** An event taken out of delivery, as `lakehouse parked` lists it. */
export interface ParkedEvent {
  position: number;
  stream: string;
  partition: string;
  eventId: string | null;
  eventType: string | null;
  /** Why it was parked (`rejected`, `schema`, ...). */
  reason: string;
  error: string;
  parkedAt: string;
  ageSeconds: number;
}

/** A partition whose batch ran out of retries, or that is blocked at a poison record. */
export interface FailedPartition {
  stream: string;
  partition: string;
  /** `failed` (retry budget spent; retried slowly) or `blocked` (stopped at `blockedPosition`). */
  state: 'failed' | 'blocked';
  error: string | null;
  since: string | null;
  ageSeconds: number;
  nextRetryAt: string | null;
  blockedPosition: number | null;
  /** Batches sent for this partition so far (attempts included). */
  batches: number;
  /** Events waiting behind it. */
  held: number;
}

export interface ParkedFilter {
  stream?: string;
  partition?: string;
  /** At most this many parked events (oldest first). Default 100. */
  limit?: number;
}

type Row = Record<string, unknown>;
const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

/** The columns of a parked event, with its event id and type (the event may have been pruned: LEFT JOIN). */
const parkedSelect = (s: string) =>
  `SELECT p.position, p.stream, p.partition_key, p.reason, p.error, p.parked_at,
          extract(epoch FROM now() - p.parked_at)::float8 AS age, e.event_id, e.event_type
     FROM ${s}.parked p LEFT JOIN ${s}.events e ON e.position = p.position`;

const toParked = (r: Row): ParkedEvent => ({
  position: Number(r.position),
  stream: String(r.stream),
  partition: String(r.partition_key),
  eventId: (r.event_id as string | null) ?? null,
  eventType: (r.event_type as string | null) ?? null,
  reason: String(r.reason),
  error: String(r.error),
  parkedAt: iso(r.parked_at)!,
  ageSeconds: Math.round(Number(r.age)),
});

/**
 * Failed and blocked partitions. A batch that failed after its retry budget holds its whole
 * lane (`lanes.failed_at`): each partition with events pending in that lane is listed as
 * failed, with the lane's error. A partition blocked at a poison record is in `partitions`.
 */
function failedSql(s: string, where: string): string {
  return `SELECT * FROM (
      SELECT l.stream, pe.partition_key, l.last_error, l.failed_at, l.last_error_at, l.next_retry_at,
             NULL::bigint AS blocked_position, l.batch_count,
             extract(epoch FROM now() - l.failed_at)::float8 AS age, count(*)::int AS held
        FROM ${s}.lanes l JOIN ${s}.pending pe ON pe.stream = l.stream AND pe.lane = l.lane
       WHERE l.failed_at IS NOT NULL
       GROUP BY l.stream, l.lane, pe.partition_key
      UNION ALL
      SELECT p.stream, p.partition_key, p.last_error, p.failed_at, p.last_error_at, p.next_retry_at,
             p.blocked_position, p.batch_count,
             extract(epoch FROM now() - coalesce(p.failed_at, p.last_error_at, now()))::float8 AS age,
             (SELECT count(*)::int FROM ${s}.pending pe
               WHERE pe.stream = p.stream AND pe.partition_key = p.partition_key) AS held
        FROM ${s}.partitions p
       WHERE p.blocked_position IS NOT NULL) p
    WHERE ${where}
    ORDER BY coalesce(p.failed_at, p.last_error_at), p.stream, p.partition_key`;
}

/**
 * Parked events and failed or blocked partitions, oldest first. Read-only; filters are bind
 * parameters (a NULL filter matches all).
 */
export async function listParked(
  exec: Executor,
  schema: string,
  f: ParkedFilter = {},
): Promise<{ parked: ParkedEvent[]; failed: FailedPartition[]; totalParked: number }> {
  const s = ident(schema);
  const params = [f.stream ?? null, f.partition ?? null];
  const where = '($1::text IS NULL OR p.stream = $1) AND ($2::text IS NULL OR p.partition_key = $2)';
  const [parked, total, failed] = await Promise.all([
    exec<Row>(`${parkedSelect(s)} WHERE ${where} ORDER BY p.position LIMIT $3`, [...params, f.limit ?? 100]),
    exec<Row>(`SELECT count(*)::int AS n FROM ${s}.parked p WHERE ${where}`, params),
    exec<Row>(failedSql(s, where), params),
  ]);
  return {
    totalParked: Number(total[0]?.n ?? 0),
    parked: parked.map(toParked),
    failed: failed.map((r) => ({
      stream: String(r.stream),
      partition: String(r.partition_key),
      state: r.blocked_position !== null ? 'blocked' : 'failed',
      error: (r.last_error as string | null) ?? null,
      since: iso(r.failed_at ?? r.last_error_at),
      ageSeconds: Math.round(Number(r.age)),
      nextRetryAt: iso(r.next_retry_at),
      blockedPosition: r.blocked_position === null ? null : Number(r.blocked_position),
      batches: Number(r.batch_count),
      held: Number(r.held),
    })),
  };
}

/** One parked event with its whole outbox record (payload, metadata), or null when not parked. */
export async function showParked(
  exec: Executor,
  schema: string,
  position: number,
): Promise<{ parked: ParkedEvent; record: Row | null } | null> {
  const s = ident(schema);
  const [p] = await exec<Row>(`${parkedSelect(s)} WHERE p.position = $1`, [position]);
  if (!p) return null;
  const [record] = await exec<Row>(
    `SELECT event_id, stream, partition_key, event_type, tenant_id, occurred_at, schema_version, payload,
            metadata, aggregate_type, aggregate_id, aggregate_version, created_at
       FROM ${s}.events WHERE position = $1`,
    [position],
  );
  return {
    parked: toParked(p),
    record: record ?? null,
  };
}

/** The error of the most recently parked event of each stream (for `status` when no partition is failing). */
export async function lastParkedErrors(exec: Executor, schema: string): Promise<Map<string, string>> {
  const rows = await exec<Row>(
    `SELECT DISTINCT ON (stream) stream, error FROM ${ident(schema)}.parked ORDER BY stream, parked_at DESC, position DESC`,
  );
  return new Map(rows.map((r) => [String(r.stream), String(r.error)]));
}
