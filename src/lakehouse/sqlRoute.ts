import type { IncomingMessage, ServerResponse } from 'node:http';
import { bodyProblem, readBody, sendJson } from './http.js';
import { QueryError, type QueryOptions } from './query.js';
import type { QueryPool } from './queryPool.js';

/** R2 SQL-style error codes of the `/sql` answers. */
const CODES: Record<QueryError['code'], number> = {
  REJECTED: 40004,
  INVALID: 40003,
  TOO_MANY_ROWS: 40013,
  TIMEOUT: 40008,
  CANCELLED: 40009,
  FAILED: 50000,
};

const fail = (res: ServerResponse, status: number, code: number, message: string) =>
  sendJson(res, status, { success: false, errors: [{ code, message }], result: null });

/**
 * Parses a `/sql` body strictly: `{"query": string, "tenant"?: string}` and nothing else. A
 * `tenant` that is present must be a tenant id: `null`, `""`, a number or a misspelt key is an
 * error, never a query over every tenant.
 */
export function parseSqlBody(
  text: string,
): { ok: true; query: string; options: QueryOptions } | { ok: false; message: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, message: 'the body must be JSON: {"query": "SELECT ...", "tenant"?: "<tenant id>"}' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return {
      ok: false,
      message: 'the body must be a JSON object: {"query": "SELECT ...", "tenant"?: "<tenant id>"}',
    };
  }
  const unknown = Object.keys(body).filter((k) => k !== 'query' && k !== 'tenant');
  if (unknown.length > 0) {
    return {
      ok: false,
      message: `unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}: use "query" and "tenant"`,
    };
  }
  const { query, tenant } = body as { query?: unknown; tenant?: unknown };
  if (typeof query !== 'string') return { ok: false, message: '"query" must be a string: "SELECT ..."' };
  if ('tenant' in body && (typeof tenant !== 'string' || tenant === '')) {
    return {
      ok: false,
      message: `"tenant" must be a non-empty tenant id string, got ${JSON.stringify(tenant)}`,
    };
  }
  return { ok: true, query, options: 'tenant' in body ? { tenant: tenant as string } : {} };
}

/**
 * `POST /sql`: runs the query in the query pool (off the ingest path), answers like R2 SQL.
 * The query is cancelled (its process killed) when the client goes away.
 */
export async function handleSql(
  req: IncomingMessage,
  res: ServerResponse,
  pool: QueryPool,
  warehouse: string,
  maxBody: number,
): Promise<void> {
  const read = await readBody(req, maxBody);
  if (!('body' in read)) {
    const p = bodyProblem(read, maxBody);
    return fail(res, p.status, 40004, p.message);
  }
  const parsed = parseSqlBody(read.body.toString('utf8'));
  if (!parsed.ok) return fail(res, 400, 40004, parsed.message);
  const gone = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  try {
    const r = await pool.run(warehouse, parsed.query, parsed.options, gone.signal);
    return sendJson(res, 200, {
      success: true,
      errors: [],
      result: { schema: r.schema, rows: r.rows, metrics: r.metrics },
    });
  } catch (e) {
    if (!(e instanceof QueryError)) throw e;
    if (e.code === 'CANCELLED') return void res.destroy();
    const status = e.code === 'FAILED' ? 500 : e.code === 'TIMEOUT' ? 408 : 400;
    return fail(res, status, CODES[e.code], e.message);
  }
}
