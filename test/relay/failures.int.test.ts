import { beforeAll, describe, expect, it } from 'vitest';
import { createEvent, type EventEnvelope } from '../../src/domain/envelope.js';
import { replay } from '../../src/relay/replay.js';
import { assertDelivered, checkDelivery } from '../support/checker.js';
import { inTransaction, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { relayTestFile, testRelay } from '../support/relay.js';
import { type SinkServer, waitFor } from '../support/sinkServer.js';

const file = relayTestFile(import.meta.filename);
const sinkWith = file.sinkWith;
let db: TestDb;
beforeAll(() => {
  db = file.db();
});

async function emitMany(
  prefix: string,
  tenants: number,
  perTenant: number,
  perTx = 50,
): Promise<EventEnvelope<'orders'>[]> {
  const all: EventEnvelope<'orders'>[] = [];
  for (let i = 0; i < perTenant; i++) {
    for (let t = 0; t < tenants; t++)
      all.push(createEvent('orders', order(`${prefix}-${t}-${i}`, `${prefix}-t${t}`)));
  }
  for (let i = 0; i < all.length; i += perTx) {
    await inTransaction(db.pool, (c) => db.outbox.emit(c, ...all.slice(i, i + perTx)));
  }
  return all;
}

const expectedOf = (events: EventEnvelope[]) =>
  events.map((e) => ({ event_id: e.event_id, stream: e.stream, partitionKey: e.partition_key }));
const receivedFor = (sink: SinkServer, prefix: string) =>
  sink.received().filter((r) => String(r.record.tenant_id).startsWith(`${prefix}-`));

async function parked(prefix: string): Promise<{ order_id: string; reason: string; error: string }[]> {
  const { rows } = await db.pool.query(
    `SELECT e.payload->>'order_id' AS order_id, k.reason, k.error FROM "${db.schema}".parked k
       JOIN "${db.schema}".events e ON e.position = k.position
      WHERE k.partition_key LIKE $1 ORDER BY k.position`,
    [`${prefix}-%`],
  );
  return rows;
}

describe('sink failures (reference test 8, G1, G4, G6)', () => {
  it('delivers everything in order per tenant through 30% 5xx, 429 with Retry-After, timeouts and refused connections, counting resends', async () => {
    const sink = await sinkWith({
      failRate: 0.3,
      status429Rate: 0.1,
      retryAfterSeconds: 0.2,
      timeoutRate: 0.05,
      timeoutMode: 'after-store',
      seed: 7,
    });
    const events = await emitMany('faults', 8, 150);
    const relay = testRelay(db, sink, {
      sink: (await import('../../src/pipelines/httpSink.js')).createHttpSink({
        url: sink.url,
        timeoutMs: 300,
      }),
      defaults: { maxBatchRecords: 40 },
      retry: { attempts: 50, baseDelayMs: 20, maxDelayMs: 200 },
      concurrency: 4,
    });
    await relay.start();
    try {
      // Refuse connections for a while in the middle of the run.
      await waitFor(() => receivedFor(sink, 'faults').length > 300, { timeoutMs: 30_000 });
      const networkErrors = async () =>
        (await relay.metrics.failures.get()).values
          .filter((v) => v.labels.kind === 'retry')
          .reduce((n, v) => n + v.value, 0);
      await sink.setFaults({ refuse: true });
      const atRefusal = sink.received().length;
      const before = await networkErrors();
      await waitFor(async () => (await networkErrors()) >= before + 3, { timeoutMs: 10_000 });
      expect(sink.received().length).toBe(atRefusal); // nothing got through while refused
      await sink.setFaults({ refuse: false });
      await waitFor(async () => (await db.outbox.status(db.pool)).streams[0]?.pending === 0, {
        timeoutMs: 60_000,
      });
    } finally {
      await relay.stop();
    }
    const result = checkDelivery({ expected: expectedOf(events), received: receivedFor(sink, 'faults') });
    assertDelivered(result);
    expect(sink.requests.error500).toBeGreaterThan(0);
    expect(sink.requests.throttled429).toBeGreaterThan(0);
    expect(sink.requests.timeout).toBeGreaterThan(0);
    // Timeouts after the sink stored the batch are the only source of duplicates, and they are counted.
    const status = (await db.outbox.status(db.pool)).streams.find((s) => s.stream === 'orders');
    expect(result.duplicates).toBeGreaterThan(0);
    expect(status?.duplicatesResent).toBeGreaterThanOrEqual(result.duplicates);
  });

  it('parks a failed batch after the retry budget, keeps other tenants flowing, and replays it in order', async () => {
    const sink = await sinkWith();
    const good = await emitMany('budget-ok', 2, 20);
    const bad = await emitMany('budget-bad', 1, 30);
    const failing = new Set(bad.map((e) => e.event_id));
    const http = (await import('../../src/pipelines/httpSink.js')).createHttpSink({ url: sink.url });
    const relay = testRelay(db, sink, {
      sink: {
        // A sink that is down for one tenant's batches only (503), and fine for the others.
        async send(batch) {
          if (batch.records.some((r) => failing.has(JSON.parse(r).event_id))) {
            return { kind: 'retry', status: 503, error: 'HTTP 503: overloaded' };
          }
          return http.send(batch);
        },
      },
      retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 20, failedRetryMs: 3_600_000 },
    });
    await relay.runUntilIdle();
    assertDelivered(checkDelivery({ expected: expectedOf(good), received: receivedFor(sink, 'budget-ok') }));
    expect(receivedFor(sink, 'budget-bad')).toHaveLength(0);
    const status = (await db.outbox.status(db.pool)).streams.find((s) => s.stream === 'orders');
    expect(status?.failedBatches).toBe(1);
    expect(status?.held).toBe(30);
    expect(status?.lastError).toContain('503');

    failing.clear();
    const client = await db.pool.connect();
    const r = await replay(client, db.schema, { partitionKey: 'budget-bad-t0' }).finally(() =>
      client.release(),
    );
    expect(r.resumed).toEqual([{ stream: 'orders', partitionKey: 'budget-bad-t0' }]);
    const again = testRelay(db, sink);
    await again.runUntilIdle();
    assertDelivered(checkDelivery({ expected: expectedOf(bad), received: receivedFor(sink, 'budget-bad') }));
  });

  it('retries a configuration error (401) without parking any event, and delivers once the token is right', async () => {
    const sink = await sinkWith({ token: 'right' });
    const events = await emitMany('auth', 1, 10);
    const { createHttpSink } = await import('../../src/pipelines/httpSink.js');
    const wrong = testRelay(db, sink, {
      sink: createHttpSink({ url: sink.url, token: 'wrong' }),
      retry: { attempts: 2, baseDelayMs: 10, configRetryMs: 20 },
    });
    await wrong.start();
    await waitFor(() => sink.requests.unauthorized >= 3, { timeoutMs: 20_000 });
    await wrong.stop();
    expect(await parked('auth')).toEqual([]);
    const status = (await db.outbox.status(db.pool)).streams.find((s) => s.stream === 'orders');
    expect(status?.lastError).toContain('401');
    const right = testRelay(db, sink, {
      sink: createHttpSink({ url: sink.url, token: 'right' }),
      retry: { configRetryMs: 20 },
    });
    await right.runUntilIdle();
    assertDelivered(checkDelivery({ expected: expectedOf(events), received: receivedFor(sink, 'auth') }));
  });
});

describe('poison records (reference test 9, G5)', () => {
  it.each([
    ['the sink names the record', false],
    ['the sink names no record (split to isolate)', true],
  ])(
    'parks only the one poison record in a batch of 1,000 when %s; the rest arrive in order',
    async (_, bare) => {
      const prefix = bare ? 'poison-split' : 'poison-index';
      const sink = await sinkWith({
        poison: (r) => r.order_id === `${prefix}-0-617`,
        poisonWithoutIndexes: bare,
      });
      const events = await emitMany(prefix, 1, 1000, 1000);
      const relay = testRelay(db, sink, { defaults: { maxBatchRecords: 1000 } });
      await relay.runUntilIdle();
      const poison = events.find((e) => e.data.order_id === `${prefix}-0-617`)!;
      const result = checkDelivery({
        expected: expectedOf(events.filter((e) => e !== poison)),
        received: receivedFor(sink, prefix),
      });
      assertDelivered(result, { maxDuplicates: 0 });
      expect(await parked(prefix)).toEqual([
        expect.objectContaining({ order_id: `${prefix}-0-617`, reason: 'rejected' }),
      ]);
    },
  );

  it("blocks the partition at the poison record with onPoison 'block' until it is replayed", async () => {
    const prefix = 'poison-block';
    let poisoned = true;
    const sink = await sinkWith({ poison: (r) => poisoned && r.order_id === `${prefix}-0-5` });
    const events = await emitMany(prefix, 1, 10, 10);
    const relay = testRelay(db, sink, { streams: { orders: { onPoison: 'block' } } });
    await relay.runUntilIdle();
    expect(receivedFor(sink, prefix).map((r) => r.record.order_id)).toEqual(
      [0, 1, 2, 3, 4].map((i) => `${prefix}-0-${i}`),
    );
    const status = (await db.outbox.status(db.pool)).streams.find((s) => s.stream === 'orders');
    expect(status?.blockedPartitions).toBe(1);
    poisoned = false;
    const client = await db.pool.connect();
    await replay(client, db.schema, { partitionKey: `${prefix}-t0` }).finally(() => client.release());
    const again = testRelay(db, sink, { streams: { orders: { onPoison: 'block' } } });
    await again.runUntilIdle();
    assertDelivered(checkDelivery({ expected: expectedOf(events), received: receivedFor(sink, prefix) }), {
      maxDuplicates: 0,
    });
  });

  it('parks a record that fails the sink schema check before sending it', async () => {
    const prefix = 'schema-check';
    const sink = await sinkWith();
    const events = await emitMany(prefix, 1, 5, 5);
    const { createHttpSink } = await import('../../src/pipelines/httpSink.js');
    const http = createHttpSink({ url: sink.url });
    const relay = testRelay(db, sink, {
      sink: {
        send: (b) => http.send(b),
        check: (_stream, record) =>
          record.order_id === `${prefix}-0-2` ? 'total_amount: not a decimal(18,4)' : undefined,
      },
    });
    await relay.runUntilIdle();
    expect(receivedFor(sink, prefix).map((r) => r.record.order_id)).not.toContain(`${prefix}-0-2`);
    expect(receivedFor(sink, prefix)).toHaveLength(4);
    expect(await parked(prefix)).toEqual([
      expect.objectContaining({ order_id: `${prefix}-0-2`, reason: 'schema' }),
    ]);
    expect(events).toHaveLength(5);
  });
});

describe('retention (reference test 10)', () => {
  it('never removes an undelivered event while prune runs during delivery', async () => {
    const prefix = 'retention';
    const sink = await sinkWith({ latencyMs: 2 });
    const events = await emitMany(prefix, 10, 200, 100);
    const relay = testRelay(db, sink, { defaults: { maxBatchRecords: 25 } });
    let pruned = 0;
    let pruning = true;
    const pruner = (async () => {
      while (pruning) pruned += await db.outbox.prune(db.pool, { olderThanSeconds: 0, batchSize: 500 });
    })();
    await relay.runUntilIdle();
    pruning = false;
    await pruner;
    assertDelivered(checkDelivery({ expected: expectedOf(events), received: receivedFor(sink, prefix) }));
    expect(pruned).toBeGreaterThan(0);
  });
});
