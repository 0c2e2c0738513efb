import { Agent, request, errors as undiciErrors } from 'undici';
import { defaultCatalog } from '../domain/defaultCatalog.js';
import type { Catalog } from '../domain/defineCatalog.js';
import type { Sink, SinkBatch, SinkOutcome } from '../relay/sink.js';
import { routeRecord, type StreamRoutes } from './streamRoutes.js';
import { recordCheckFor } from './streamSchema.js';

/** Options of {@link createHttpSink}. */
export interface HttpSinkOptions {
  /**
   * URL template; `{stream}` is replaced by the stream name. Default `LAKEHOUSE_SINK_URL`,
   * else `http://127.0.0.1:8787/ingest/{stream}` (the local data platform).
   */
  url?: string;
  /**
   * Per-stream URLs (e.g. each Cloudflare stream's `https://{id}.ingest.cloudflare.com`),
   * overriding `url`. Default: `LAKEHOUSE_SINK_URL_<STREAM>` variables
   * (`LAKEHOUSE_SINK_URL_ORDERS`), since a Cloudflare ingest URL holds the stream's id, not
   * its name, and one `{stream}` template cannot reach it.
   */
  streamUrls?: Record<string, string>;
  /** Bearer token. Default `LAKEHOUSE_SINK_TOKEN`. */
  token?: string;
  /** Per-stream tokens, overriding `token`. */
  streamTokens?: Record<string, string>;
  /** Request timeout in ms (headers and body). Default 30,000. */
  timeoutMs?: number;
  /** Keep-alive connections per origin. Default 16. */
  connections?: number;
  /**
   * The sink's `check` hook, run by the relay on each record before sending (a failing
   * record is parked instead of sent). Default: the generated Pipelines stream schema of
   * the record's stream in `catalog` ({@link recordCheckFor}), because Pipelines answers 200
   * to a record that does not match and drops it later. `false` sends every record unchecked.
   */
  check?: false | ((stream: string, record: Record<string, unknown>) => string | undefined);
  /** The streams the default check knows. Default: the default catalog. */
  catalog?: Catalog;
  /**
   * Deployed Cloudflare stream versions per lake stream ({@link loadStreamRoutes}). When
   * given, each record goes to the newest version whose deployed schema it matches (a
   * stream changed as `orders_v2` takes new records while old pending ones still reach
   * `orders`), the default check is against the deployed schemas, and `url`/`streamUrls`
   * are not used.
   */
  routes?: StreamRoutes;
  /**
   * Called when a 2xx answer has no `committed` count: the batch is counted as delivered
   * (a retry would resend it forever). Default: one `process.emitWarning` per stream.
   */
  onWarning?: (message: string) => void;
}

export const DEFAULT_SINK_URL = 'http://127.0.0.1:8787/ingest/{stream}';

/** Reads `Retry-After` (seconds or an HTTP date) as milliseconds. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Extracts record indexes from a rejection body (`{"errors":[{"index":3,...}]}` or `{"index":3}`). */
function recordIndexes(body: unknown): number[] | undefined {
  const list = (body as { errors?: unknown[] })?.errors ?? [body];
  const idx = (Array.isArray(list) ? list : [])
    .map((e) => (e as { index?: unknown })?.index)
    .filter((i): i is number => Number.isInteger(i));
  return idx.length > 0 ? [...new Set(idx)].sort((a, b) => a - b) : undefined;
}

function committedOf(body: unknown): number | undefined {
  const b = body as { committed?: unknown; result?: { committed?: unknown } };
  const n = b?.committed ?? b?.result?.committed;
  return typeof n === 'number' ? n : undefined;
}

/** Errors that prove the request never reached the sink: no connection was made. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Whether a request failed before its body could reach the sink (so resending it is no
 * duplicate). Anything else, a reset (`ECONNRESET`), a socket closed by the other side, a
 * timeout, may come after the sink stored the batch: "maybe delivered".
 */
function failedBeforeSending(e: unknown): boolean {
  const err = e as { code?: string; cause?: { code?: string } };
  return NOT_CONNECTED.has(err.code ?? '') || NOT_CONNECTED.has(err.cause?.code ?? '');
}

/**
 * The Pipelines HTTP ingest client: POSTs a stream's batch as a JSON array with a bearer
 * token over keep-alive connections, and classifies the answer for the relay (see
 * {@link SinkOutcome}). Accepts `{"committed":N}` and the legacy
 * `{"success":true,"result":{"committed":N}}`; any N other than the number sent is a
 * failure to retry, not a success. A 2xx with no count at all is delivered, with a warning.
 */
export function createHttpSink(options: HttpSinkOptions = {}): Sink {
  const template = options.url ?? process.env.LAKEHOUSE_SINK_URL ?? DEFAULT_SINK_URL;
  const token = options.token ?? process.env.LAKEHOUSE_SINK_TOKEN;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const agent = new Agent({
    connections: options.connections ?? 16,
    keepAliveTimeout: 30_000,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const warned = new Set<string>();
  const warn = (stream: string, message: string) => {
    if (options.onWarning) return options.onWarning(`stream ${stream}: ${message}`);
    if (warned.has(stream)) return;
    warned.add(stream);
    process.emitWarning(`stream ${stream}: ${message}`, 'LakehouseSinkWarning');
  };
  const urlFor = (stream: string) =>
    options.streamUrls?.[stream] ??
    process.env[`LAKEHOUSE_SINK_URL_${stream.toUpperCase()}`] ??
    template.replaceAll('{stream}', encodeURIComponent(stream));

  async function post(url: string, batch: SinkBatch): Promise<SinkOutcome> {
    const body = `[${batch.records.join(',')}]`;
    const headers: Record<string, string> = { ...batch.headers, 'content-type': 'application/json' };
    const bearer = options.streamTokens?.[batch.stream] ?? token;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: 'POST',
        body,
        headers,
        dispatcher: agent,
        signal: batch.signal,
      });
    } catch (e) {
      const timedOut =
        e instanceof undiciErrors.HeadersTimeoutError ||
        e instanceof undiciErrors.BodyTimeoutError ||
        (e as Error).name === 'TimeoutError';
      return {
        kind: 'retry',
        error: `${timedOut ? 'timeout' : 'network error'}: ${(e as Error).message}`,
        maybeDelivered: !failedBeforeSending(e),
      };
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (e) {
      return {
        kind: 'retry',
        error: `reading the answer failed: ${(e as Error).message}`,
        maybeDelivered: true,
      };
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const status = res.statusCode;
    const summary = `HTTP ${status}${text ? `: ${text.slice(0, 300)}` : ''}`;
    if (status >= 200 && status < 300) {
      const committed = committedOf(json);
      if (committed === batch.records.length) return { kind: 'ok', committed };
      if (committed === undefined) {
        // No count at all (an intermediary, or a changed answer): the sink took the request.
        // Retrying cannot learn more and would resend the batch forever.
        warn(batch.stream, `sink answered ${summary} without a "committed" count; counted as delivered`);
        return { kind: 'ok', committed: batch.records.length };
      }
      return {
        kind: 'retry',
        status,
        error: `sink committed ${committed ?? 'an unknown number'} of ${batch.records.length} records (${summary})`,
        maybeDelivered: true,
      };
    }
    const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
    if (status === 429 || status >= 500 || status === 408) {
      return {
        kind: 'retry',
        status,
        error: summary,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    }
    if (status === 413) return { kind: 'too_large', status, error: summary };
    if (status === 400 || status === 422) {
      const idx = recordIndexes(json);
      return { kind: 'rejected', status, error: summary, ...(idx ? { recordIndexes: idx } : {}) };
    }
    return { kind: 'config', status, error: summary };
  }

  /** Splits a batch into runs of consecutive records bound for the same deployed version. */
  function runsByRoute(batch: SinkBatch): { url: string; start: number; records: string[] }[] {
    const routes = options.routes?.[batch.stream];
    if (!routes || routes.length === 0)
      return [{ url: urlFor(batch.stream), start: 0, records: [...batch.records] }];
    const runs: { url: string; start: number; records: string[] }[] = [];
    const only = routes.length === 1 && !routes[0]!.drop ? routes[0] : undefined;
    batch.records.forEach((given, i) => {
      const parsed = only ? undefined : JSON.parse(given);
      const r = only ? { route: only, record: parsed } : routeRecord(batch.stream, routes, parsed);
      // A record matching no version was parked by the check; should one get here, the
      // newest version's schema check at Cloudflare is where it would have gone anyway.
      const url = 'route' in r ? r.route.url : routes[0]!.url;
      // Sent in the form its version stores (null fields it lacks left out): never larger.
      const json = 'route' in r && r.record !== parsed ? JSON.stringify(r.record) : given;
      const last = runs.at(-1);
      if (last && last.url === url) last.records.push(json);
      else runs.push({ url, start: i, records: [json] });
    });
    return runs;
  }

  async function send(batch: SinkBatch): Promise<SinkOutcome> {
    const runs = runsByRoute(batch);
    let committed = 0;
    for (const run of runs) {
      const out = await post(run.url, { ...batch, records: run.records });
      if (out.kind !== 'ok') {
        if (committed === 0) return out;
        // Earlier runs were stored: the relay resends the whole batch, so say so.
        if (out.kind === 'rejected' && out.recordIndexes) {
          return { ...out, recordIndexes: out.recordIndexes.map((i) => i + run.start) };
        }
        return out.kind === 'retry' ? { ...out, maybeDelivered: true } : out;
      }
      committed += out.committed;
    }
    return { kind: 'ok', committed };
  }

  const routedCheck = (stream: string, record: Record<string, unknown>) => {
    const r = routeRecord(stream, options.routes?.[stream], record);
    return 'problem' in r ? r.problem : undefined;
  };
  const defaultCheck = options.routes ? routedCheck : recordCheckFor(options.catalog ?? defaultCatalog);
  const check = options.check === undefined ? defaultCheck : options.check;
  return { send, close: () => agent.close(), ...(check ? { check } : {}) };
}
