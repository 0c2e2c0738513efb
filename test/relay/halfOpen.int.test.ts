import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, type EventEnvelope } from '../../src/domain/envelope.js';
import { assertDelivered, checkDelivery } from '../support/checker.js';
import { inTransaction, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { relayTestFile, testRelay } from '../support/relay.js';
import { waitFor } from '../support/sinkServer.js';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy.js';

const file = relayTestFile(import.meta.filename);
let db: TestDb;
let proxy: TcpProxy;
beforeAll(async () => {
  db = file.db();
  const u = new URL(db.databaseUrl);
  proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
});
afterAll(() => proxy.close());

async function emit(prefix: string, n: number): Promise<EventEnvelope[]> {
  const events = Array.from({ length: n }, (_, i) => createEvent('orders', order(`${prefix}-${i}`, prefix)));
  await inTransaction(db.pool, (c) => db.outbox.emit(c, ...events));
  return events;
}

describe('a half-open database connection', () => {
  it('fails the lane within seconds instead of hanging it, and another relay takes the lane over', async () => {
    const sink = await file.sinkWith({ latencyMs: 1500 });
    const logs: { msg: string; time: number }[] = [];
    const capture = new Writable({
      write(chunk, _enc, done) {
        const line = JSON.parse(String(chunk));
        logs.push({ msg: line.msg, time: Date.now() });
        done();
      },
    });
    const viaProxy = new URL(db.databaseUrl);
    viaProxy.host = proxy.address;
    const first = testRelay(db, sink, {
      databaseUrl: viaProxy.toString(),
      queryTimeoutMs: 2000,
      logger: pino({ level: 'warn' }, capture),
    });
    const events = await emit('half-open', 20);
    await first.start();
    try {
      // The batch is at the sink; the relay will mark it on a connection that went silent.
      await waitFor(() => sink.inFlight > 0, { timeoutMs: 20_000 });
      const silentAt = Date.now();
      proxy.goSilent();
      const later = await emit('half-open-2', 5);
      const second = testRelay(db, sink, { queryTimeoutMs: 2000 });
      await second.start();
      try {
        await waitFor(async () => (await db.outbox.status(db.pool)).streams[0]?.pending === 0, {
          timeoutMs: 30_000,
        });
      } finally {
        await second.stop();
      }
      // The second relay may finish before the first's query times out: wait for the notice.
      const isLost = (l: { msg: string }) => l.msg === 'database connection lost during delivery';
      await waitFor(() => logs.some(isLost), { timeoutMs: 10_000 }).catch(() => {});
      const lost = logs.find(isLost);
      expect(lost, 'the first relay noticed its dead connection').toBeDefined();
      expect((lost?.time ?? Number.POSITIVE_INFINITY) - silentAt).toBeLessThan(8000);
      assertDelivered(
        checkDelivery({
          expected: [...events, ...later].map((e) => ({
            event_id: e.event_id,
            stream: e.stream,
            partitionKey: e.partition_key,
          })),
          received: sink.received().filter((r) => String(r.record.tenant_id).startsWith('half-open')),
        }),
      );
    } finally {
      await first.stop();
    }
  });
});
