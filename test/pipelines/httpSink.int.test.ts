import { afterEach, describe, expect, it } from 'vitest';
import { createEvent, toLakeRecord } from '../../src/domain/envelope.js';
import { createHttpSink, type HttpSinkOptions } from '../../src/pipelines/httpSink.js';
import { type PipelinesStreamSchema, streamSchema } from '../../src/pipelines/streamSchema.js';
import type { Sink } from '../../src/relay/sink.js';
import { order } from '../support/fixtures.js';
import { type Handler, openServers, reply, startServer, type TestServer } from '../support/httpServer.js';

const sinks: Sink[] = [];
const servers: TestServer[] = [];

afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close?.();
  for (const s of servers.splice(0)) await s.close();
  expect(openServers()).toEqual([]);
});

async function server(handler: Handler): Promise<TestServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

function sink(s: { url: string }, options: HttpSinkOptions = {}): Sink {
  const k = createHttpSink({ url: `${s.url}/ingest/{stream}`, token: 'secret-token', ...options });
  sinks.push(k);
  return k;
}

const records = (n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify(toLakeRecord(createEvent('orders', order(`o-${i}`)))));

describe('HTTP sink against a real server', () => {
  it('is ok on 200 {"committed":N}', async () => {
    const s = await server((_req, res) => reply(res, 200, { committed: 3 }));
    expect(await sink(s).send({ stream: 'orders', records: records(3) })).toEqual({
      kind: 'ok',
      committed: 3,
    });
  });

  it('is ok on the legacy {"success":true,"result":{"committed":N}}', async () => {
    const s = await server((_req, res) => reply(res, 200, { success: true, result: { committed: 2 } }));
    expect(await sink(s).send({ stream: 'orders', records: records(2) })).toEqual({
      kind: 'ok',
      committed: 2,
    });
  });

  it('retries when committed differs from the number sent (maybe delivered)', async () => {
    const s = await server((_req, res) => reply(res, 200, { committed: 1 }));
    const out = await sink(s).send({ stream: 'orders', records: records(2) });
    expect(out).toMatchObject({ kind: 'retry', status: 200, maybeDelivered: true });
    expect(out.kind === 'retry' && out.error).toContain('committed 1 of 2');
  });

  it('counts a 2xx without a committed count as delivered, with one warning per stream', async () => {
    const s = await server((_req, res) => reply(res, 204));
    const warnings: string[] = [];
    const k = sink(s, { onWarning: (m) => warnings.push(m) });
    expect(await k.send({ stream: 'orders', records: records(3) })).toEqual({ kind: 'ok', committed: 3 });
    expect(warnings).toEqual([
      expect.stringContaining('stream orders: sink answered HTTP 204 without a "committed" count'),
    ]);
  });

  it('retries on 429 with the Retry-After of the answer', async () => {
    const s = await server((_req, res) => reply(res, 429, { error: 'slow down' }, { 'retry-after': '7' }));
    expect(await sink(s).send({ stream: 'orders', records: records(1) })).toMatchObject({
      kind: 'retry',
      status: 429,
      retryAfterMs: 7000,
    });
  });

  it('retries on 500', async () => {
    const s = await server((_req, res) => reply(res, 500, { error: 'boom' }));
    const out = await sink(s).send({ stream: 'orders', records: records(1) });
    expect(out).toMatchObject({ kind: 'retry', status: 500 });
    expect(out.kind === 'retry' && out.retryAfterMs).toBeFalsy();
  });

  it.each([401, 403])('reports a configuration problem on %i', async (status) => {
    const s = await server((_req, res) => reply(res, status, { error: 'no' }));
    expect(await sink(s).send({ stream: 'orders', records: records(1) })).toMatchObject({
      kind: 'config',
      status,
    });
  });

  it('says too_large on 413', async () => {
    const s = await server((_req, res) => reply(res, 413, { error: 'too big' }));
    expect(await sink(s).send({ stream: 'orders', records: records(2) })).toMatchObject({
      kind: 'too_large',
      status: 413,
    });
  });

  it('says rejected on 400 with the record indexes the body names', async () => {
    const s = await server((_req, res) =>
      reply(res, 400, {
        errors: [
          { index: 2, message: 'bad' },
          { index: 0, message: 'bad' },
        ],
      }),
    );
    expect(await sink(s).send({ stream: 'orders', records: records(3) })).toMatchObject({
      kind: 'rejected',
      status: 400,
      recordIndexes: [0, 2],
    });
  });

  it('says rejected on 422 without indexes when the body names none', async () => {
    const s = await server((_req, res) => reply(res, 422, { error: 'unprocessable' }));
    const out = await sink(s).send({ stream: 'orders', records: records(1) });
    expect(out).toMatchObject({ kind: 'rejected', status: 422 });
    expect(out).not.toHaveProperty('recordIndexes');
  });

  it('retries when the connection is refused (not delivered)', async () => {
    const s = await startServer((_req, res) => reply(res, 200, { committed: 1 }));
    await s.close(); // the port is now closed: connecting is refused
    const out = await sink(s).send({ stream: 'orders', records: records(1) });
    expect(out).toMatchObject({ kind: 'retry', maybeDelivered: false });
    expect(out.kind === 'retry' && out.error).toMatch(/network error/);
  });

  it('retries after a timeout, flagged as maybe delivered', async () => {
    const s = await server(() => {
      // never answers: the request may have been stored
    });
    const out = await sink(s, { timeoutMs: 200 }).send({ stream: 'orders', records: records(1) });
    expect(out).toMatchObject({ kind: 'retry', maybeDelivered: true });
    expect(out.kind === 'retry' && out.error).toMatch(/^timeout/);
    expect(s.requests).toHaveLength(1);
  });

  it('sends the bearer token, JSON content type, the stream in the URL and exactly the JSON array', async () => {
    const s = await server((_req, res) => reply(res, 200, { committed: 2 }));
    const batch = records(2);
    await sink(s).send({ stream: 'orders', records: batch });
    await sink(s, { streamTokens: { api_calls: 'api-token' } }).send({
      stream: 'api_calls',
      records: ['{}'],
    });
    const [first, second] = s.requests;
    expect(first).toMatchObject({ method: 'POST', url: '/ingest/orders' });
    expect(first?.headers.authorization).toBe('Bearer secret-token');
    expect(first?.headers['content-type']).toBe('application/json');
    expect(first?.body).toBe(`[${batch.join(',')}]`);
    expect(JSON.parse(first?.body ?? '')).toEqual(batch.map((r) => JSON.parse(r)));
    expect(second?.url).toBe('/ingest/api_calls');
    expect(second?.headers.authorization).toBe('Bearer api-token');
  });

  it('sends a stream to its LAKEHOUSE_SINK_URL_<STREAM> URL, other streams by the template', async () => {
    const s = await server((req, res) => reply(res, 200, { committed: JSON.parse(req.body).length }));
    process.env.LAKEHOUSE_SINK_URL_ORDERS = `${s.url}/stream-id-of-orders`;
    try {
      const k = sink(s);
      expect(await k.send({ stream: 'orders', records: records(1) })).toMatchObject({ kind: 'ok' });
      expect(await k.send({ stream: 'api_calls', records: ['{}'] })).toMatchObject({ kind: 'ok' });
      expect(s.requests.map((r) => r.url)).toEqual(['/stream-id-of-orders', '/ingest/api_calls']);
    } finally {
      delete process.env.LAKEHOUSE_SINK_URL_ORDERS;
    }
  });
});

/**
 * A stand-in for Pipelines' later processing, written from the schema file alone (not with
 * our validator): a record is kept when it has only schema fields, every required one, and
 * JSON values of the right kind.
 */
function wouldStore(schema: PipelinesStreamSchema, rec: Record<string, unknown>): boolean {
  const byName = new Map(schema.fields.map((f) => [f.name, f]));
  if (Object.keys(rec).some((k) => !byName.has(k))) return false;
  return schema.fields.every((f) => {
    const v = rec[f.name];
    if (v === null || v === undefined) return !f.required;
    if (f.type === 'string') return typeof v === 'string';
    if (f.type === 'timestamp') return typeof v === 'string' && !Number.isNaN(Date.parse(v));
    if (f.type === 'int64' || f.type === 'int32') return Number.isInteger(v);
    return typeof v === 'number';
  });
}

describe('a stream that silently drops mismatched records', () => {
  it('answers 200 for a mismatched record it never stores; the sink check flags it before sending', async () => {
    const schema = streamSchema('orders');
    const stored: unknown[] = [];
    const s = await server((req, res) => {
      const batch = JSON.parse(req.body) as Record<string, unknown>[];
      stored.push(...batch.filter((r) => wouldStore(schema, r)));
      reply(res, 200, { committed: batch.length });
    });
    const good = toLakeRecord(createEvent('orders', order('good')));
    const bad = { ...toLakeRecord(createEvent('orders', order('bad'))), total_amount: '10.50' };

    // Without the check: the sink says ok for both, the stream keeps one.
    const unchecked = sink(s, { check: false });
    const out = await unchecked.send({
      stream: 'orders',
      records: [good, bad].map((r) => JSON.stringify(r)),
    });
    expect(out).toEqual({ kind: 'ok', committed: 2 });
    expect(stored).toHaveLength(1);

    // With the default check, as the relay uses it: the bad record is caught before sending.
    const checked = sink(s);
    expect(checked.check?.('orders', good)).toBeUndefined();
    expect(checked.check?.('orders', bad)).toBe(
      'stream orders: field "total_amount" must be a finite number (decimal128)',
    );
    stored.length = 0;
    const sendable = [good, bad].filter((r) => checked.check?.('orders', r) === undefined);
    const out2 = await checked.send({ stream: 'orders', records: sendable.map((r) => JSON.stringify(r)) });
    expect(out2).toEqual({ kind: 'ok', committed: 1 });
    expect(stored).toEqual([good]);
  });
});
