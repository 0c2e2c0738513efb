import { afterEach, describe, expect, it } from 'vitest';
import { createHttpSink } from '../../src/pipelines/httpSink.js';
import type { Sink } from '../../src/relay/sink.js';
import { type SinkServer, type SinkServerOptions, startSinkServer, waitFor } from '../support/sinkServer.js';

const servers: SinkServer[] = [];
const sinks: Sink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close?.()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: SinkServerOptions = {}): Promise<SinkServer> {
  const s = await startSinkServer(options);
  servers.push(s);
  return s;
}

const rec = (event_id: string, tenant_id = 't1', extra: Record<string, unknown> = {}) => ({
  event_id,
  tenant_id,
  ...extra,
});

function post(
  server: SinkServer,
  stream: string,
  body: unknown,
  init: { token?: string; signal?: AbortSignal; raw?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  return fetch(server.urlFor(stream), {
    method: 'POST',
    headers,
    body: init.raw ?? JSON.stringify(body),
    ...(init.signal ? { signal: init.signal } : {}),
  });
}

const ids = (server: SinkServer) => server.received().map((r) => r.record.event_id);

describe('sink server: the ingest contract', () => {
  it('answers 200 {"committed":N} and records the records in arrival order with stream and request number', async () => {
    const server = await start();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ingest\/\{stream\}$/);
    const r1 = await post(server, 'orders', [rec('a'), rec('b')]);
    expect(r1.status).toBe(200);
    expect(await r1.json()).toEqual({ committed: 2 });
    const r2 = await post(server, 'invoices', [rec('c', 't2')]);
    expect(await r2.json()).toEqual({ committed: 1 });

    expect(
      server.received().map(({ stream, requestNo, index, record }) => ({ stream, requestNo, index, record })),
    ).toEqual([
      { stream: 'orders', requestNo: 1, index: 0, record: rec('a') },
      { stream: 'orders', requestNo: 1, index: 1, record: rec('b') },
      { stream: 'invoices', requestNo: 2, index: 0, record: rec('c', 't2') },
    ]);
    expect(server.receivedFor('invoices')).toHaveLength(1);
    expect(server.batches().map((b) => [b.requestNo, b.stream, b.records.length, b.outcome])).toEqual([
      [1, 'orders', 2, 'ok'],
      [2, 'invoices', 1, 'ok'],
    ]);
    expect(server.requests).toMatchObject({ total: 2, ok: 2 });
  });

  it('checks the bearer token when one is configured', async () => {
    const server = await start({ token: 's3cret' });
    expect((await post(server, 'orders', [rec('a')])).status).toBe(401);
    expect((await post(server, 'orders', [rec('a')], { token: 'wrong' })).status).toBe(401);
    const ok = await post(server, 'orders', [rec('a')], { token: 's3cret' });
    expect(ok.status).toBe(200);
    expect(ids(server)).toEqual(['a']);
    expect(server.requests).toMatchObject({ total: 3, unauthorized: 2, ok: 1 });
  });

  it('rejects bodies that are not a JSON array of objects, other paths and other methods', async () => {
    const server = await start();
    expect((await post(server, 'orders', { event_id: 'a' })).status).toBe(400);
    expect((await post(server, 'orders', null, { raw: '{not json' })).status).toBe(400);
    const notObject = await post(server, 'orders', [rec('a'), 42]);
    expect(notObject.status).toBe(400);
    expect(await notObject.json()).toMatchObject({ success: false, errors: [{ index: 1 }] });
    const port = server.port;
    expect((await fetch(`http://127.0.0.1:${port}/elsewhere`, { method: 'POST', body: '[]' })).status).toBe(
      404,
    );
    expect((await fetch(server.urlFor('orders'))).status).toBe(405);
    expect(server.received()).toEqual([]);
    expect(server.requests).toMatchObject({ badRequest: 3, notFound: 1, methodNotAllowed: 1, ok: 0 });
  });
});

describe('sink server: faults', () => {
  async function outcomes(server: SinkServer, n: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) statuses.push((await post(server, 'orders', [rec(`e${i}`)])).status);
    return statuses;
  }

  it('answers 500 for a seeded, reproducible fraction of requests and stores nothing of them', async () => {
    const a = await start({ failRate: 0.3, seed: 42 });
    const b = await start({ failRate: 0.3, seed: 42 });
    const c = await start({ failRate: 0.3, seed: 7 });
    const sa = await outcomes(a, 60);
    const sb = await outcomes(b, 60);
    const sc = await outcomes(c, 60);
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    const failures = sa.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(6);
    expect(failures).toBeLessThan(30);
    expect(a.requests).toMatchObject({ total: 60, error500: failures, ok: 60 - failures });
    const okIds = sa.flatMap((s, i) => (s === 200 ? [`e${i}`] : []));
    expect(ids(a)).toEqual(okIds);
  });

  it('answers 429 with a Retry-After header', async () => {
    const server = await start({ status429Rate: 1, retryAfterSeconds: 7 });
    const res = await post(server, 'orders', [rec('a')]);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(server.received()).toEqual([]);
    await server.setFaults({ status429Rate: 0 });
    expect((await post(server, 'orders', [rec('a')])).status).toBe(200);
    expect(server.requests).toMatchObject({ throttled429: 1, ok: 1 });
  });

  it('times out after storing (timeoutMode after-store): the records are there, no answer came', async () => {
    const server = await start({ timeoutRate: 1, timeoutMode: 'after-store' });
    await expect(post(server, 'orders', [rec('a')], { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(ids(server)).toEqual(['a']);
    expect(server.batches()[0]?.outcome).toBe('timeout');
    expect(server.requests).toMatchObject({ timeout: 1, ok: 0 });
    // The hung request stops being in flight when the client gives up.
    await server.waitFor((s) => s.inFlight === 0, { timeoutMs: 5_000 });
  });

  it('times out before storing (timeoutMode before-store): nothing is recorded', async () => {
    const server = await start({ timeoutRate: 1, timeoutMode: 'before-store' });
    await expect(post(server, 'orders', [rec('a')], { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(server.received()).toEqual([]);
    expect(server.requests).toMatchObject({ timeout: 1 });
    await server.setFaults({ timeoutRate: 0 });
    expect((await post(server, 'orders', [rec('b')])).status).toBe(200);
    expect(ids(server)).toEqual(['b']);
  });

  it('refuses connections while refusing, and serves again on the same port (setFaults, stop/restart)', async () => {
    const server = await start();
    expect((await post(server, 'orders', [rec('a')])).status).toBe(200);
    await server.setFaults({ refuse: true });
    const refused = await post(server, 'orders', [rec('b')]).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(((refused as Error).cause as { code?: string })?.code).toBe('ECONNREFUSED');
    await server.setFaults({ refuse: false });
    expect((await post(server, 'orders', [rec('c')])).status).toBe(200);

    await server.stop();
    await expect(post(server, 'orders', [rec('d')])).rejects.toThrow();
    await server.restart();
    expect((await post(server, 'orders', [rec('e')])).status).toBe(200);
    expect(ids(server)).toEqual(['a', 'c', 'e']);
  });

  it('can start refusing', async () => {
    const server = await start({ refuse: true });
    await expect(post(server, 'orders', [rec('a')])).rejects.toThrow();
    await server.restart();
    expect((await post(server, 'orders', [rec('a')])).status).toBe(200);
  });

  it('answers 400 naming every poison record and stores nothing of that request', async () => {
    const server = await start({ poison: (r) => r.poison === true });
    const res = await post(server, 'orders', [
      rec('a'),
      rec('b', 't1', { poison: true }),
      rec('c'),
      rec('d', 't1', { poison: true }),
    ]);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      success: false,
      errors: [
        { index: 1, message: 'poison' },
        { index: 3, message: 'poison' },
      ],
    });
    expect(server.received()).toEqual([]);
    expect((await post(server, 'orders', [rec('a'), rec('c')])).status).toBe(200);
    expect(ids(server)).toEqual(['a', 'c']);
    expect(server.requests).toMatchObject({ poison: 1, ok: 1 });
  });

  it('answers 413 above maxBodyBytes (raw bytes) and accepts a body of exactly the limit', async () => {
    const body = JSON.stringify([rec('a'), rec('b')]);
    const server = await start({ maxBodyBytes: Buffer.byteLength(body) });
    expect((await post(server, 'orders', null, { raw: body })).status).toBe(200);
    const tooBig = await post(server, 'orders', [rec('a'), rec('b'), rec('c')]);
    expect(tooBig.status).toBe(413);
    expect(ids(server)).toEqual(['a', 'b']);
    expect(server.requests).toMatchObject({ tooLarge: 1, ok: 1 });
  });

  it('forces the outcomes of the next requests, in order, before the random faults', async () => {
    const server = await start();
    server.forceOutcomes('error500', 'throttled429', 'ok');
    const statuses = [];
    for (const id of ['a', 'b', 'c', 'd']) statuses.push((await post(server, 'orders', [rec(id)])).status);
    expect(statuses).toEqual([500, 429, 200, 200]);
    expect(server.log().map((l) => l.outcome)).toEqual(['error500', 'throttled429', 'ok', 'ok']);
  });

  it('changes faults at runtime', async () => {
    const server = await start({ failRate: 1 });
    expect((await post(server, 'orders', [rec('a')])).status).toBe(500);
    await server.setFaults({ failRate: 0, poison: (r) => r.event_id === 'x' });
    expect(server.faults.failRate).toBe(0);
    expect((await post(server, 'orders', [rec('x')])).status).toBe(400);
    await server.setFaults({ poison: undefined });
    expect((await post(server, 'orders', [rec('x')])).status).toBe(200);
  });
});

describe('sink server: in-flight tracking per partition', () => {
  it('sees two concurrent requests of one tenant as 2 in flight for that partition', async () => {
    const server = await start({ latencyMs: 250 });
    const [r1, r2] = await Promise.all([
      post(server, 'orders', [rec('a', 't1')]),
      post(server, 'orders', [rec('b', 't1')]),
    ]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    expect(server.maxInFlightPerPartition).toBe(2);
    expect(server.maxInFlightByPartition().get('t1')).toBe(2);
    expect(server.inFlight).toBe(0);
  });

  it('keeps each partition at 1 when concurrent requests carry different tenants', async () => {
    const server = await start({ latencyMs: 250 });
    const answers = await Promise.all([
      post(server, 'orders', [rec('a', 't1')]),
      post(server, 'orders', [rec('b', 't2')]),
      post(server, 'invoices', [rec('c', 't3')]),
    ]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(server.maxInFlight).toBe(3);
    expect(server.maxInFlightPerPartition).toBe(1);
    expect(Object.fromEntries(server.maxInFlightByPartition())).toEqual({ t1: 1, t2: 1, t3: 1 });
  });

  it('counts a batch in every partition it holds, and sequential requests never overlap', async () => {
    const server = await start({ latencyMs: 50 });
    await Promise.all([
      post(server, 'orders', [rec('a', 't1'), rec('b', 't2')]),
      post(server, 'orders', [rec('c', 't2')]),
    ]);
    expect(server.maxInFlightByPartition().get('t2')).toBe(2);
    expect(server.maxInFlightByPartition().get('t1')).toBe(1);
    server.clear();
    for (const id of ['d', 'e', 'f']) await post(server, 'orders', [rec(id, 't1')]);
    expect(server.maxInFlightPerPartition).toBe(1);
    expect(server.received()).toHaveLength(3);
  });

  it('uses a custom partition function', async () => {
    const server = await start({
      latencyMs: 200,
      partitionOf: (stream, r) => `${stream}/${String(r.tenant_id)}`,
    });
    await Promise.all([post(server, 'orders', [rec('a', 't1')]), post(server, 'invoices', [rec('b', 't1')])]);
    expect(server.maxInFlightPerPartition).toBe(1);
    expect([...server.maxInFlightByPartition().keys()].sort()).toEqual(['invoices/t1', 'orders/t1']);
  });

  it('shows requests in flight while they are held, observable by polling', async () => {
    const server = await start({ latencyMs: 300 });
    const pending = post(server, 'orders', [rec('a', 't9')]);
    await server.waitFor((s) => s.inFlightByPartition().get('t9') === 1, { timeoutMs: 5_000 });
    expect((await pending).status).toBe(200);
    expect(server.inFlightByPartition().size).toBe(0);
  });
});

describe('sink server with the relay HTTP client (createHttpSink)', () => {
  function client(server: SinkServer, token?: string): Sink {
    const sink = createHttpSink({ url: server.url, timeoutMs: 300, ...(token ? { token } : {}) });
    sinks.push(sink);
    return sink;
  }
  const batch = (...records: Record<string, unknown>[]) => ({
    stream: 'orders',
    records: records.map((r) => JSON.stringify(r)),
  });

  it('classifies every outcome the way the relay expects', async () => {
    const server = await start({ token: 'tok', maxBodyBytes: 200, poison: (r) => r.poison === true });
    const sink = client(server, 'tok');
    expect(await sink.send(batch(rec('a'), rec('b')))).toEqual({ kind: 'ok', committed: 2 });
    expect(await sink.send(batch(rec('c'), rec('p', 't1', { poison: true })))).toMatchObject({
      kind: 'rejected',
      status: 400,
      recordIndexes: [1],
    });
    const big = Array.from({ length: 10 }, (_, i) => rec(`big${i}`));
    expect(await sink.send(batch(...big))).toMatchObject({ kind: 'too_large', status: 413 });
    server.forceOutcomes('error500', 'throttled429', 'timeout-after-store');
    await server.setFaults({ retryAfterSeconds: 3 });
    expect(await sink.send(batch(rec('d')))).toMatchObject({ kind: 'retry', status: 500 });
    expect(await sink.send(batch(rec('d')))).toMatchObject({
      kind: 'retry',
      status: 429,
      retryAfterMs: 3000,
    });
    expect(await sink.send(batch(rec('d')))).toMatchObject({ kind: 'retry', maybeDelivered: true });
    expect(await client(server, 'bad').send(batch(rec('e')))).toMatchObject({ kind: 'config', status: 401 });
    await server.stop();
    expect(await sink.send(batch(rec('f')))).toMatchObject({ kind: 'retry' });
    await server.restart();
    expect(await sink.send(batch(rec('f')))).toEqual({ kind: 'ok', committed: 1 });
    expect(ids(server)).toEqual(['a', 'b', 'd', 'f']);
  });
});

describe('waitFor', () => {
  it('returns the first truthy value and throws with the message after the deadline', async () => {
    let n = 0;
    expect(await waitFor(() => (++n >= 3 ? n : 0), { intervalMs: 1 })).toBe(3);
    await expect(waitFor(() => false, { timeoutMs: 50, message: 'never' })).rejects.toThrow(
      /timed out after 50 ms: never/,
    );
  });
});
