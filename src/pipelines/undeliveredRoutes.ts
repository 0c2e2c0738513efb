import type pg from 'pg';
import { assertSchemaName } from '../config.js';
import { toLakeRecord } from '../domain/envelope.js';
import { routeRecord, type StreamRoute } from './streamRoutes.js';

/**
 * Undelivered events of a stream (pending, including failed batches, and parked), in
 * position order after a cursor. Parked events count: a replay would send them.
 */
const UNDELIVERED_PAGE = (schema: string) => {
  const s = assertSchemaName(schema);
  return `SELECT e.position, e.event_id::text AS event_id, e.event_type, e.payload
    FROM (SELECT position FROM ${s}.pending WHERE stream = $1
          UNION SELECT position FROM ${s}.parked WHERE stream = $1) u
    JOIN ${s}.events e ON e.position = u.position
   WHERE u.position > $2
   ORDER BY u.position
   LIMIT $3`;
};

interface Row {
  position: string;
  event_id: string;
  event_type: string;
  payload: Record<string, unknown>;
}

/**
 * Counts the undelivered events of `stream` that the relay would send to `version` (the
 * newest deployed version whose schema each record matches), reading the outbox in pages.
 */
export async function countUndeliveredForVersion(
  db: Pick<pg.Pool, 'query'>,
  schema: string,
  stream: string,
  routes: readonly StreamRoute[],
  version: number,
  pageSize = 1000,
): Promise<number> {
  let cursor = 0;
  let count = 0;
  for (;;) {
    const r = await db.query<Row>(UNDELIVERED_PAGE(schema), [stream, cursor, pageSize]);
    for (const row of r.rows) {
      const record = toLakeRecord({
        event_id: row.event_id,
        event_type: row.event_type,
        data: row.payload as never,
      });
      const routed = routeRecord(stream, routes, record);
      if ('route' in routed && routed.route.version === version) count++;
    }
    if (r.rows.length < pageSize) return count;
    cursor = Number(r.rows.at(-1)!.position);
  }
}
