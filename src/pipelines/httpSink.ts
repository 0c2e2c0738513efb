import { Agent, request, errors as undiciErrors } from 'undici';
import type { Sink, SinkBatch, SinkOutcome } from '../relay/sink.js';
import { pipelinesRecordCheck } from './streamSchema.js';

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
   * record is parked instead of sent). Default: {@link pipelinesRecordCheck}, the generated
   * Pipelines stream schema, because Pipelines answers 200 to a record that does not match
   * and drops it later. `false` sends every record unchecked.
   */
  check?: false | ((stream: string, record: Record<string, unknown>) => string | undefined);
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
 * failure to retry, not a success.
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
  const urlFor = (stream: string) =>
    options.streamUrls?.[stream] ??
    process.env[`LAKEHOUSE_SINK_URL_${stream.toUpperCase()}`] ??
    template.replaceAll('{stream}', encodeURIComponent(stream));

  async function send(batch: SinkBatch): Promise<SinkOutcome> {
    const body = `[${batch.records.join(',')}]`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const bearer = options.streamTokens?.[batch.stream] ?? token;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(urlFor(batch.stream), {
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

  const check = options.check === undefined ? pipelinesRecordCheck : options.check;
  return { send, close: () => agent.close(), ...(check ? { check } : {}) };
}
