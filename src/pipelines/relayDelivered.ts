import type pg from 'pg';
import { assertSchemaName } from '../config.js';

/**
 * Events the relay delivered per lake stream since `since`, from the outbox's per-minute
 * delivery log. The schema name is checked (it cannot be a bind parameter).
 */
const DELIVERED_SINCE = (schema: string) =>
  `SELECT stream, sum(events)::float8 AS n FROM ${assertSchemaName(schema)}.delivery_log
    WHERE minute >= date_trunc('minute', $1::timestamptz) GROUP BY stream`;

/** Events delivered per stream since `since` (the window's first minute included). */
export async function relayDeliveredSince(
  db: Pick<pg.Pool, 'query'>,
  schema: string,
  since: Date,
): Promise<Map<string, number>> {
  const r = await db.query<{ stream: string; n: number }>(DELIVERED_SINCE(schema), [since.toISOString()]);
  return new Map(r.rows.map((row) => [row.stream, Number(row.n)]));
}
