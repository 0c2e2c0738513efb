import { LakehouseError } from '../../errors.js';
import type { CloudflareCredentials } from './credentials.js';

/** One entry of a Cloudflare error envelope (`{"success":false,"errors":[{code,message}]}`). */
export interface CloudflareApiErrorEntry {
  code?: number;
  message: string;
}

/** A Cloudflare API call that failed: HTTP status and the envelope's errors, in the message too. */
export class CloudflareApiError extends LakehouseError {
  readonly status: number | undefined;
  readonly errors: CloudflareApiErrorEntry[];
  constructor(what: string, status: number | undefined, errors: CloudflareApiErrorEntry[], cause?: unknown) {
    const detail = errors
      .map((e) => (e.code !== undefined ? `[${e.code}] ${e.message}` : e.message))
      .join('; ');
    super('REMOTE', `Cloudflare API ${what} failed${status ? ` (HTTP ${status})` : ''}: ${detail}`, {
      cause,
    });
    this.name = 'CloudflareApiError';
    this.status = status;
    this.errors = errors;
  }
}

interface Envelope<T> {
  success?: boolean;
  errors?: unknown[];
  result?: T;
  result_info?: { page?: number; per_page?: number; count?: number; total_count?: number };
}

function errorEntries(list: unknown[] | undefined, fallback: string): CloudflareApiErrorEntry[] {
  const entries = (list ?? []).map((e) =>
    typeof e === 'string'
      ? { message: e }
      : {
          message: String((e as { message?: unknown })?.message ?? JSON.stringify(e)),
          ...(typeof (e as { code?: unknown })?.code === 'number'
            ? { code: (e as { code: number }).code }
            : {}),
        },
  );
  return entries.length > 0 ? entries : [{ message: fallback }];
}

/** A small client of Cloudflare's v4 REST API for one account: envelopes, errors, pagination. */
export interface CloudflareApi {
  readonly accountId: string;
  /** `method` on `path` (relative to the account: `/pipelines/v1/streams`); returns `result`. */
  call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** Every item of a paginated list (`?page=N&per_page=100` until `total_count` is reached). */
  list<T>(path: string): Promise<T[]>;
  /** `POST /graphql` (account-independent); returns `data`, throws on `errors`. */
  graphql<T>(query: string, variables: Record<string, unknown>): Promise<T>;
}

const PER_PAGE = 100;

/** Creates the client. Every failure is a {@link CloudflareApiError} naming the call. */
export function createCloudflareApi(creds: CloudflareCredentials): CloudflareApi {
  const root = `${creds.baseUrl}/accounts/${encodeURIComponent(creds.accountId)}`;

  async function send<T>(method: string, url: string, what: string, body?: unknown): Promise<Envelope<T>> {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${creds.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (e) {
      throw new CloudflareApiError(what, undefined, [{ message: (e as Error).message }], e);
    }
    const text = await res.text();
    let json: Envelope<T> | undefined;
    try {
      json = text ? (JSON.parse(text) as Envelope<T>) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok || !json || json.success === false) {
      throw new CloudflareApiError(
        what,
        res.status,
        errorEntries(json?.errors, text.slice(0, 300) || res.statusText),
      );
    }
    return json;
  }

  return {
    accountId: creds.accountId,
    async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
      return (await send<T>(method, `${root}${path}`, `${method} ${path}`, body)).result as T;
    },
    async list<T>(path: string): Promise<T[]> {
      const items: T[] = [];
      for (let page = 1; ; page++) {
        const env = await send<T[]>('GET', `${root}${path}?page=${page}&per_page=${PER_PAGE}`, `GET ${path}`);
        const got = Array.isArray(env.result) ? env.result : [];
        items.push(...got);
        const total = env.result_info?.total_count;
        // Stop on the total when the API gives one, else on a short or empty page.
        if (got.length === 0 || (total !== undefined ? items.length >= total : got.length < PER_PAGE)) {
          return items;
        }
      }
    },
    async graphql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${creds.baseUrl}/graphql`, {
          method: 'POST',
          headers: { authorization: `Bearer ${creds.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (e) {
        throw new CloudflareApiError('POST /graphql', undefined, [{ message: (e as Error).message }], e);
      }
      const text = await res.text();
      let json: { data?: T; errors?: unknown[] | null } | undefined;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (!res.ok || !json || (json.errors && json.errors.length > 0) || !json.data) {
        throw new CloudflareApiError(
          'POST /graphql',
          res.status,
          errorEntries(json?.errors ?? undefined, text.slice(0, 300)),
        );
      }
      return json.data;
    },
  };
}
