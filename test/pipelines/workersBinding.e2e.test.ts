import { spawnSync } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, toLakeRecord } from '../../src/domain/envelope.js';
import { createHttpSink } from '../../src/pipelines/httpSink.js';
import type { Sink } from '../../src/relay/sink.js';
import { order } from '../support/fixtures.js';
import { openServers, type ReceivedRequest, startServer, type TestServer } from '../support/httpServer.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/workers-binding/', import.meta.url));

interface Worker {
  fetch(request: Request, env: Record<string, unknown>): Promise<Response>;
}

/** A stand-in for Cloudflare's stream binding: stores what `send` gets, or fails. */
function streamBinding(fail?: Error) {
  const received: Record<string, unknown>[] = [];
  return {
    received,
    async send(records: Record<string, unknown>[]) {
      if (fail) throw fail;
      received.push(...records);
    },
  };
}

let worker: Worker;
const servers: TestServer[] = [];
const sinks: Sink[] = [];

beforeAll(async () => {
  // Loaded by URL so the main tsconfig does not pull in the Workers types.
  const spec = new URL('../../examples/workers-binding/src/index.ts', import.meta.url).href;
  worker = ((await import(spec)) as { default: Worker }).default;
});

afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close?.();
  for (const s of servers.splice(0)) await s.close();
  expect(openServers()).toEqual([]);
});

/** Serves the Worker's fetch handler over real HTTP with the given bindings. */
async function serveWorker(env: Record<string, unknown>): Promise<TestServer> {
  const s = await startServer((req: ReceivedRequest, res: ServerResponse) => {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers,
      body: req.body,
    });
    void worker.fetch(request, env).then(async (response) => {
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(await response.text());
    });
  });
  servers.push(s);
  return s;
}

function sink(s: TestServer, token = 'ingest-secret'): Sink {
  const k = createHttpSink({ url: `${s.url}/ingest/{stream}`, token });
  sinks.push(k);
  return k;
}

const records = (n: number) =>
  Array.from({ length: n }, (_, i) => toLakeRecord(createEvent('orders', order(`w-${i}`))));

describe('examples/workers-binding', () => {
  it('typechecks with its own tsconfig and @cloudflare/workers-types', () => {
    const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
    const r = spawnSync(process.execPath, [tsc, '-p', EXAMPLE], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('takes a relay batch and sends its records to the stream binding of the path, answering committed N', async () => {
    const orders = streamBinding();
    const fallback = streamBinding();
    const s = await serveWorker({ INGEST_TOKEN: 'ingest-secret', STREAM_ORDERS: orders, STREAM: fallback });
    const batch = records(3);
    const out = await sink(s).send({ stream: 'orders', records: batch.map((r) => JSON.stringify(r)) });
    expect(out).toEqual({ kind: 'ok', committed: 3 });
    expect(orders.received).toEqual(batch);
    expect(fallback.received).toEqual([]);
  });

  it('uses STREAM for a path without its own binding', async () => {
    const fallback = streamBinding();
    const s = await serveWorker({ INGEST_TOKEN: 'ingest-secret', STREAM: fallback });
    expect(await sink(s).send({ stream: 'api_calls', records: ['{"a":1}'] })).toEqual({
      kind: 'ok',
      committed: 1,
    });
    expect(fallback.received).toEqual([{ a: 1 }]);
  });

  it('answers a wrong token with 401, which the sink reports as a configuration problem', async () => {
    const stream = streamBinding();
    const s = await serveWorker({ INGEST_TOKEN: 'ingest-secret', STREAM: stream });
    const out = await sink(s, 'wrong').send({ stream: 'orders', records: ['{}'] });
    expect(out).toMatchObject({ kind: 'config', status: 401 });
    expect(stream.received).toEqual([]);
  });

  it('answers a refused send with 503 and Retry-After, which the sink retries', async () => {
    const s = await serveWorker({
      INGEST_TOKEN: 'ingest-secret',
      STREAM: streamBinding(new Error('backpressure')),
    });
    const out = await sink(s).send({ stream: 'orders', records: ['{}'] });
    expect(out).toMatchObject({ kind: 'retry', status: 503, retryAfterMs: 5000 });
  });

  it('rejects a record that is not an object with its index', async () => {
    const stream = streamBinding();
    const s = await serveWorker({ INGEST_TOKEN: 'ingest-secret', STREAM: stream });
    const out = await sink(s).send({ stream: 'orders', records: ['{}', '1'] });
    expect(out).toMatchObject({ kind: 'rejected', status: 400, recordIndexes: [1] });
    expect(stream.received).toEqual([]);
  });
});
