import { beforeAll, describe, expect, it } from 'vitest';
import { createEvent, type EventEnvelope } from '../../src/domain/envelope.js';
import { laneOf } from '../../src/outbox/lanes.js';
import { createHttpSink } from '../../src/pipelines/httpSink.js';
import { replay } from '../../src/relay/replay.js';
import type { Sink } from '../../src/relay/sink.js';
import { assertDelivered, checkDelivery } from '../support/checker.js';
import { inTransaction, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { relayTestFile, testRelay } from '../support/relay.js';
import type { SinkServer } from '../support/sinkServer.js';

const file = relayTestFile(import.meta.filename);
let db: TestDb;
beforeAll(() => {
  db = file.db();
});

/** `n` tenant keys with this prefix that all hash into the same lane (of 64). */
function tenantsInOneLane(prefix: string, n: number): string[] {
  const lane = laneOf(`${prefix}-0`, 64);
  const keys: string[] = [];
  for (let i = 0; keys.length < n; i++)
    if (laneOf(`${prefix}-${i}`, 64) === lane) keys.push(`${prefix}-${i}`);
  return keys;
}

/** `perTenant` orders for each tenant, interleaved, one transaction per round. */
async function emitRounds(
  prefix: string,
  tenants: string[],
  perTenant: number,
): Promise<EventEnvelope<'orders'>[]> {
  const all: EventEnvelope<'orders'>[] = [];
  for (let i = 0; i < perTenant; i++) {
    const round = tenants.map((t) => createEvent('orders', order(`${prefix}-${t}-${i}`, t)));
    await inTransaction(db.pool, (c) => db.outbox.emit(c, ...round));
    all.push(...round);
  }
  return all;
}

const expectedOf = (events: EventEnvelope[]) =>
  events.map((e) => ({ event_id: e.event_id, stream: e.stream, partitionKey: e.partition_key }));
const receivedFor = (sink: SinkServer, tenants: string[]) =>
  sink.received().filter((r) => tenants.includes(String(r.record.tenant_id)));
const ordersStatus = async () => (await db.outbox.status(db.pool)).streams.find((s) => s.stream === 'orders');

describe('lanes', () => {
  it("with many tenants in one lane and onPoison 'block', blocks only the poisoned tenant while the others flow, in order, many tenants per request", async () => {
    const tenants = tenantsInOneLane('lane-block', 30);
    const bad = tenants[7] as string;
    let poisoned = true;
    const sink = await file.sinkWith({
      poison: (r) => poisoned && r.order_id === `lane-block-${bad}-1`,
    });
    const events = await emitRounds('lane-block', tenants, 5);
    const relay = testRelay(db, sink, { streams: { orders: { onPoison: 'block' } } });
    await relay.runUntilIdle();
    const others = events.filter((e) => e.partition_key !== bad);
    assertDelivered(
      checkDelivery({
        expected: expectedOf(others),
        received: receivedFor(
          sink,
          tenants.filter((t) => t !== bad),
        ),
      }),
      {
        maxDuplicates: 0,
      },
    );
    // The blocked tenant got its event before the poison record, and nothing after it.
    expect(receivedFor(sink, [bad]).map((r) => r.record.order_id)).toEqual([`lane-block-${bad}-0`]);
    const status = await ordersStatus();
    expect(status).toMatchObject({ blockedPartitions: 1, held: 4 });
    // One request carried many tenants of the lane.
    expect(
      Math.max(...sink.batches().map((b) => new Set(b.records.map((r) => r.tenant_id)).size)),
    ).toBeGreaterThan(1);

    poisoned = false;
    const client = await db.pool.connect();
    await replay(client, db.schema, { partitionKey: bad }).finally(() => client.release());
    await testRelay(db, sink, { streams: { orders: { onPoison: 'block' } } }).runUntilIdle();
    assertDelivered(checkDelivery({ expected: expectedOf(events), received: receivedFor(sink, tenants) }), {
      maxDuplicates: 0,
    });
  });

  it('counts the retry budget per batch: a sink failing every 8th request never parks a batch, and nothing is left pending', async () => {
    const tenants = ['budget8-a', 'budget8-b'];
    const sink = await file.sinkWith();
    const http = createHttpSink({ url: sink.url });
    let requests = 0;
    let failures = 0;
    // Every 8th request fails, but never the same batch twice (with two lanes interleaving,
    // a retried batch could otherwise land on the next 8th request too): the failures add up
    // over the drain, while no single batch uses up its budget of 2.
    const failedBatches = new Set<string>();
    const flaky: Sink = {
      async send(batch) {
        const first = batch.records[0] ?? '';
        if (++requests % 8 === 0 && !failedBatches.has(first)) {
          failedBatches.add(first);
          failures++;
          return { kind: 'retry', status: 503, error: 'HTTP 503: every 8th request fails' };
        }
        return http.send(batch);
      },
    };
    const events = await emitRounds('budget8', tenants, 300);
    const relay = testRelay(db, sink, {
      sink: flaky,
      defaults: { maxBatchRecords: 20 },
      retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 20 },
    });
    const result = await relay.runUntilIdle();
    expect(failures).toBeGreaterThan(2); // more failures in total than the budget of one batch
    expect(result.failedBatches).toEqual([]);
    assertDelivered(checkDelivery({ expected: expectedOf(events), received: receivedFor(sink, tenants) }), {
      maxDuplicates: 0,
    });
    expect(await ordersStatus()).toMatchObject({ failedBatches: 0, held: 0 });
  });

  it('reports a batch parked as failed from runUntilIdle, naming its lane and partitions', async () => {
    const tenant = 'failing-lane-t0';
    const sink = await file.sinkWith();
    const events = await emitRounds('failing-lane', [tenant], 3);
    const relay = testRelay(db, sink, {
      sink: { send: async () => ({ kind: 'retry', status: 503, error: 'HTTP 503: down' }) },
      retry: { attempts: 2, baseDelayMs: 5, maxDelayMs: 10, failedRetryMs: 3_600_000 },
    });
    const result = await relay.runUntilIdle();
    expect(result.failedBatches).toEqual([
      {
        stream: 'orders',
        lane: laneOf(tenant, 64),
        pending: events.length,
        partitionKeys: [tenant],
        morePartitions: false,
        error: 'HTTP 503: down',
      },
    ]);
    const client = await db.pool.connect();
    await replay(client, db.schema, { partitionKey: tenant }).finally(() => client.release());
    await testRelay(db, sink).runUntilIdle();
    assertDelivered(checkDelivery({ expected: expectedOf(events), received: receivedFor(sink, [tenant]) }));
  });

  it('counts a connection reset after the sink stored the batch as a possible duplicate', async () => {
    const tenant = 'reset-t0';
    const sink = await file.sinkWith();
    const events = await emitRounds('reset', [tenant], 10);
    const before = (await ordersStatus())?.duplicatesResent ?? 0;
    sink.forceOutcomes('reset-after-store');
    await testRelay(db, sink).runUntilIdle();
    expect(sink.requests.reset).toBe(1);
    const result = checkDelivery({ expected: expectedOf(events), received: receivedFor(sink, [tenant]) });
    assertDelivered(result);
    expect(result.duplicates).toBe(10);
    expect(((await ordersStatus())?.duplicatesResent ?? 0) - before).toBe(10);
  });
});
