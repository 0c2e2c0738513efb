/**
 * The child process that runs `/sql` queries for the server (see `queryPool.ts`): its own
 * DuckDB, memory and event loop, so a heavy query never slows ingest acknowledgements, and
 * it can be killed at a timeout or when the client goes away.
 */
import { QueryError, type QueryOptions, runQuery } from './query.js';

/** A query for the worker. */
export interface WorkerRequest {
  id: number;
  warehouse: string;
  sql: string;
  options: QueryOptions;
}

/** The worker's answer. */
export type WorkerResponse =
  | { id: number; ok: true; result: Awaited<ReturnType<typeof runQuery>> }
  | { id: number; ok: false; code: QueryError['code'] | 'FAILED'; message: string };

process.on('message', (m: WorkerRequest) => {
  runQuery(m.warehouse, m.sql, m.options).then(
    (result) => process.send?.({ id: m.id, ok: true, result } satisfies WorkerResponse),
    (e: unknown) =>
      process.send?.({
        id: m.id,
        ok: false,
        code: e instanceof QueryError ? e.code : 'FAILED',
        message: e instanceof Error ? e.message : String(e),
      } satisfies WorkerResponse),
  );
});
// The parent died or closed the channel: nothing left to answer.
process.on('disconnect', () => process.exit(0));
