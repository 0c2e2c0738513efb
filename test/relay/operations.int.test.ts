import { beforeAll, describe, expect, it } from 'vitest';
import { createEvent, type EventEnvelope } from '../../src/domain/envelope.js';
import { assertDelivered, checkDelivery } from '../support/checker.js';
import { inTransaction, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { relayTestFile, testRelay } from '../support/relay.js';
import { waitFor } from '../support/sinkServer.js';

const file = relayTestFile(import.meta.filename);
const sinkWith = file.sinkWith;
let db: TestDb;
beforeAll(() => {
  db = file.db();
});

async function emit(prefix: string, n: number, extra = {}): Promise<EventEnvelope[]> {
  const events = Array.from({ length: n }, (_, i) =>
    createEvent('orders', order(`${prefix}-${i}`, prefix, extra)),
  );
  await inTransaction(db.pool, (c) => db.outbox.emit(c, ...events));
  return events;
}

describe('relay operations', () => {
  it('never sends a request body over maxBatchBytes, counted on the exact bytes sent', async () => {
    const limit = 2_000;
    const sink = await sinkWith({ maxBodyBytes: limit });
    const events = await emit('bytes', 60, { payment_method: 'x'.repeat(40) });
    const relay = testRelay(db, sink, { defaults: { maxBatchBytes: limit } });
    await relay.runUntilIdle();
    expect(sink.requests.tooLarge).toBe(0);
    const sizes = sink.batches().map((b) => Buffer.byteLength(JSON.stringify(b.records)));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(limit);
    expect(Math.max(...sizes)).toBeGreaterThan(limit * 0.8); // batches are filled, not tiny
    assertDelivered(
      checkDelivery({
        expected: events.map((e) => ({ event_id: e.event_id, stream: 'orders', partitionKey: 'bytes' })),
        received: sink.received().filter((r) => r.record.tenant_id === 'bytes'),
      }),
      { maxDuplicates: 0 },
    );
  });

  it('serves Prometheus metrics and a /healthz that tells idle from stuck', async () => {
    const sink = await sinkWith();
    await emit('metrics', 5);
    const relay = testRelay(db, sink, { metricsPort: 0, stuckAfterMs: 500 });
    await relay.start();
    try {
      await waitFor(async () => (await db.outbox.status(db.pool)).streams[0]?.pending === 0, {
        timeoutMs: 20_000,
      });
      const metrics = await (await fetch(`${relay.metricsUrl}/metrics`)).text();
      expect(metrics).toMatch(/lakehouse_relay_events_delivered_total\{stream="orders"\} 5/);
      await waitFor(
        async () =>
          ((await (await fetch(`${relay.metricsUrl}/healthz`)).json()) as { status: string }).status ===
          'idle',
        {
          timeoutMs: 10_000,
        },
      );
      // Now the sink fails everything: pending events see no delivery, the relay is stuck.
      await sink.setFaults({ failRate: 1 });
      await emit('metrics-stuck', 3);
      const stuck = await waitFor(
        async () => {
          const res = await fetch(`${relay.metricsUrl}/healthz`);
          return res.status === 503 ? res.json() : undefined;
        },
        { timeoutMs: 20_000 },
      );
      expect(stuck).toMatchObject({ status: 'stuck', pendingPartitions: 1 });
    } finally {
      await relay.stop();
      await sink.setFaults({ failRate: 0 });
    }
  });
});
