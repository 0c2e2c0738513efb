/**
 * The Workers-binding path to Cloudflare Pipelines: the relay's HTTP sink posts each
 * batch here (same contract as Pipelines HTTP ingest: a JSON array, a bearer token, an
 * answer `{"committed":N}`), and the Worker hands the records to a stream binding.
 *
 * Routes: `POST /ingest/<stream>` sends to the binding `STREAM_<STREAM>` (for example
 * `STREAM_ORDERS`), else to `STREAM`, so one Worker can serve all six streams with the
 * relay's `LAKEHOUSE_SINK_URL=https://<worker>/ingest/{stream}`.
 */
import type { Pipeline } from 'cloudflare:pipelines';

export interface Env {
  /** Stream for any route without its own `STREAM_<NAME>` binding. */
  STREAM?: Pipeline;
  /** Bearer token the relay sends (`LAKEHOUSE_SINK_TOKEN`); set with `wrangler secret put INGEST_TOKEN`. */
  INGEST_TOKEN: string;
  [binding: `STREAM_${string}`]: Pipeline | undefined;
}

/** Pipelines' own request limit; the relay splits a batch on 413. */
const MAX_BODY_BYTES = 1_000_000;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

/** Compares in time independent of where the strings differ (the length is not secret). */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

function streamFor(env: Env, path: string): Pipeline | undefined {
  const name = /^\/ingest\/([A-Za-z0-9_]+)\/?$/.exec(path)?.[1];
  return (name ? env[`STREAM_${name.toUpperCase()}`] : undefined) ?? env.STREAM;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method !== 'POST')
      return json(405, { error: 'POST a JSON array of records' }, { allow: 'POST' });
    const auth = request.headers.get('authorization') ?? '';
    if (!env.INGEST_TOKEN || !sameSecret(auth, `Bearer ${env.INGEST_TOKEN}`)) {
      return json(401, { error: 'missing or wrong bearer token' });
    }
    const stream = streamFor(env, new URL(request.url).pathname);
    if (!stream) return json(404, { error: 'no stream binding for this path' });

    const body = await request.text();
    if (new TextEncoder().encode(body).length > MAX_BODY_BYTES) {
      return json(413, { error: `body over ${MAX_BODY_BYTES} bytes` });
    }
    let records: unknown;
    try {
      records = JSON.parse(body);
    } catch {
      return json(400, { error: 'body is not JSON' });
    }
    if (!Array.isArray(records)) return json(400, { error: 'body must be a JSON array' });
    const errors = records.flatMap((r, index) =>
      r === null || typeof r !== 'object' || Array.isArray(r)
        ? [{ index, message: 'not a JSON object' }]
        : [],
    );
    if (errors.length > 0) return json(400, { errors });

    try {
      // Resolves once the stream accepted the records; throws on failure or backpressure.
      await stream.send(records as Record<string, unknown>[]);
    } catch (e) {
      // 503 makes the relay retry the same batch (at-least-once; event_id deduplicates).
      return json(
        503,
        { error: `stream refused the batch: ${(e as Error).message}` },
        { 'retry-after': '5' },
      );
    }
    return json(200, { committed: records.length });
  },
};
