import { LakehouseError } from '../errors.js';
import { DEFAULT_BASIN_SQL_BASE_URL } from './cloudflare/credentials.js';

/** Basin SQL answers at most this many rows per query. */
export const BASIN_SQL_MAX_ROWS = 10_000;

/** Arguments of {@link basinQuery}. */
export interface BasinQueryOptions {
  accountId: string;
  /** R2 bucket with the Data Catalog enabled. */
  bucket: string;
  /** Token with R2 SQL read (`WRANGLER_BASIN_SQL_AUTH_TOKEN`, else `CLOUDFLARE_API_TOKEN`). */
  token: string;
  /** Default `<accountId>_<bucket>`. */
  warehouse?: string;
  /** One SELECT; tables qualified as `namespace.table` (`lakehouse.orders`). */
  query: string;
  /** Default `LAKEHOUSE_BASIN_SQL_BASE_URL`, else `https://api.sql.cloudflarestorage.com`. */
  baseUrl?: string;
  /** Attempts when Basin SQL answers 80001 (retry) or 5xx. Default 3. */
  attempts?: number;
}

/** A column of a Basin SQL result. */
export interface BasinColumn {
  name: string;
  type?: string;
}

/** A Basin SQL result, the shape the local engine's `query --json` also prints. */
export interface BasinResult {
  schema: BasinColumn[];
  rows: Record<string, unknown>[];
  /** `bytes_scanned`, `files_scanned`, ... as Basin SQL reports them. */
  metrics: Record<string, unknown>;
}

/** Basin SQL refused or failed a query; `basinCode` is its error code when it gave one. */
export class BasinSqlError extends LakehouseError {
  readonly basinCode: number | undefined;
  readonly status: number | undefined;
  constructor(message: string, status?: number, basinCode?: number) {
    super('REMOTE', message);
    this.name = 'BasinSqlError';
    this.status = status;
    this.basinCode = basinCode;
  }
}

interface Answer {
  success?: boolean;
  errors?: { code?: number; message?: string }[];
  result?: { schema?: BasinColumn[]; rows?: Record<string, unknown>[]; metrics?: Record<string, unknown> };
}

/** A clear message for each documented refusal (codes from the reference). */
export function explainBasinError(status: number, code: number | undefined, message: string): string {
  if (status === 401 || status === 403) {
    return `Basin SQL refused the token (HTTP ${status}): it needs R2 SQL read on the account (WRANGLER_BASIN_SQL_AUTH_TOKEN or CLOUDFLARE_API_TOKEN). ${message}`;
  }
  if (/budget/i.test(message)) {
    return `Basin SQL refused the query over its budget: exact DISTINCT and window functions are budget-gated; filter on fewer rows (WHERE on __ingest_ts or tenant_id) or use approximate functions. (${message})`;
  }
  if (/10[,_]?000|row limit|too many rows|limit/i.test(message)) {
    return `Basin SQL returns at most ${BASIN_SQL_MAX_ROWS.toLocaleString('en-US')} rows: add LIMIT ${BASIN_SQL_MAX_ROWS} or less, or aggregate. (${message})`;
  }
  if (code === 40003) return `Basin SQL syntax error: ${message}`;
  if (code === 40004) {
    return `Basin SQL cannot run this query: ${message} (tables must be qualified, e.g. lakehouse.orders; a SELECT alias cannot be used in WHERE)`;
  }
  return `Basin SQL failed (HTTP ${status}${code !== undefined ? `, code ${code}` : ''}): ${message}`;
}

/**
 * Runs one query through Basin SQL's HTTP API
 * (`POST {base}/api/v1/accounts/{accountId}/basin-sql/query/{bucket}` with
 * `{warehouse, query}`) and returns `{schema, rows, metrics}`. Retries code 80001 and 5xx
 * (with a short backoff); any other refusal throws a {@link BasinSqlError} with a message
 * that says what to change.
 */
export async function basinQuery(options: BasinQueryOptions): Promise<BasinResult> {
  const base = (
    options.baseUrl ??
    process.env.LAKEHOUSE_BASIN_SQL_BASE_URL ??
    DEFAULT_BASIN_SQL_BASE_URL
  ).replace(/\/+$/, '');
  const url = `${base}/api/v1/accounts/${encodeURIComponent(options.accountId)}/basin-sql/query/${encodeURIComponent(options.bucket)}`;
  const warehouse = options.warehouse ?? `${options.accountId}_${options.bucket}`;
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ warehouse, query: options.query }),
        signal: AbortSignal.timeout(120_000),
      });
    } catch (e) {
      throw new BasinSqlError(`Basin SQL could not be reached at ${base}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let answer: Answer | undefined;
    try {
      answer = JSON.parse(text) as Answer;
    } catch {
      answer = undefined;
    }
    if (res.ok && answer?.success !== false && answer?.result) {
      return {
        schema: answer.result.schema ?? [],
        rows: answer.result.rows ?? [],
        metrics: answer.result.metrics ?? {},
      };
    }
    const first = answer?.errors?.[0];
    const message = first?.message ?? (text.slice(0, 300) || res.statusText);
    const retryable = first?.code === 80001 || res.status >= 500;
    if (retryable && attempt < attempts) {
      await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
      continue;
    }
    throw new BasinSqlError(explainBasinError(res.status, first?.code, message), res.status, first?.code);
  }
}
