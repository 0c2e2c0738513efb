import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, type EventEnvelope } from '../../src/domain/envelope.js';
import { assertDelivered, checkDelivery } from '../support/checker.js';
import { createTestDb, inTransaction, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { checkRelaysStopped, testRelay } from '../support/relay.js';
import { type SinkServer, startSinkServer, waitFor } from '../support/sinkServer.js';

let db: TestDb;
let sink: SinkServer;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  sink = await startSinkServer();
});
afterAll(async () => {
  await sink.close();
  await db.close();
});
checkRelaysStopped();

const receivedIds = (tenant: string) =>
  sink
    .received()
    .filter((r) => r.record.tenant_id === tenant)
    .map((r) => r.record.event_id);

async function begin(): Promise<import('pg').PoolClient> {
  const c = await db.pool.connect();
  await c.query('BEGIN');
  return c;
}

describe('relay ordering and visibility (reference tests 1-3)', () => {
  it('delivers every committed event and never a rolled-back one, whatever the commit order (forced xids)', async () => {
    const tenant = 'xid-reverse';
    const clients = await Promise.all([begin(), begin(), begin(), begin()]);
    const events: EventEnvelope[] = [];
    for (const [i, c] of clients.entries()) {
      await c.query('SELECT pg_current_xact_id()'); // take the xid now, in this order
      const e = createEvent('orders', order(`xr-${i}`, tenant));
      events.push(e);
      await db.outbox.emit(c, e);
    }
    // Commit in reverse order of xids; the second one rolls back.
    await clients[3]?.query('COMMIT');
    await clients[2]?.query('COMMIT');
    await clients[1]?.query('ROLLBACK');
    await clients[0]?.query('COMMIT');
    for (const c of clients) c.release();

    const relay = testRelay(db, sink);
    await relay.runUntilIdle();
    const result = checkDelivery({
      expected: [0, 2, 3].map((i) => ({
        event_id: events[i]!.event_id,
        stream: 'orders',
        partitionKey: tenant,
      })),
      rolledBack: [events[1]!.event_id],
      received: sink.received().filter((r) => r.record.tenant_id === tenant),
    });
    expect(result.missing).toEqual([]);
    expect(result.phantoms).toEqual([]);
  });

  it('does not skip an event whose transaction stays open while later ones are relayed', async () => {
    const tenant = 'held-open';
    const holder = await begin();
    const held = createEvent('orders', order('held', tenant));
    await db.outbox.emit(holder, held);
    const later = createEvent('orders', order('later', tenant));
    await inTransaction(db.pool, (c) => db.outbox.emit(c, later));

    const relay = testRelay(db, sink);
    await relay.start();
    try {
      await waitFor(() => receivedIds(tenant).includes(later.event_id), { timeoutMs: 20_000 });
      expect(receivedIds(tenant)).not.toContain(held.event_id);
      await holder.query('COMMIT');
      holder.release();
      await waitFor(() => receivedIds(tenant).includes(held.event_id), { timeoutMs: 20_000 });
    } finally {
      await relay.stop();
    }
    expect(receivedIds(tenant)).toEqual([later.event_id, held.event_id]);
  });

  it('delivers T2 before T1 when T1 took its xid first but wrote after T2 committed (early-xid case)', async () => {
    const tenant = 'early-xid';
    const t1 = await begin();
    await t1.query('SELECT pg_current_xact_id()'); // T1's xid is older than T2's
    const e2 = createEvent('orders', order('t2', tenant));
    await inTransaction(db.pool, (t2) => db.outbox.emit(t2, e2));
    const e1 = createEvent('orders', order('t1', tenant));
    await db.outbox.emit(t1, e1); // written after T2 committed
    await t1.query('COMMIT');
    t1.release();

    const relay = testRelay(db, sink);
    await relay.runUntilIdle();
    expect(receivedIds(tenant)).toEqual([e2.event_id, e1.event_id]);
  });

  it('keeps the emit order of one transaction and the commit order of sequential transactions per tenant', async () => {
    const expected: { event_id: string; stream: string; partitionKey: string }[] = [];
    for (let tx = 0; tx < 20; tx++) {
      const events = Array.from({ length: 25 }, (_, i) =>
        createEvent('orders', order(`seq-${tx}-${i}`, `seq-${i % 5}`)),
      );
      await inTransaction(db.pool, (c) => db.outbox.emit(c, ...events));
      expected.push(
        ...events.map((e) => ({ event_id: e.event_id, stream: 'orders', partitionKey: e.tenant_id })),
      );
    }
    const relay = testRelay(db, sink, { defaults: { maxBatchRecords: 7 } });
    await relay.runUntilIdle();
    const tenants = new Set(expected.map((e) => e.partitionKey));
    assertDelivered(
      checkDelivery({
        expected,
        received: sink.received().filter((r) => tenants.has(String(r.record.tenant_id))),
      }),
      { maxDuplicates: 0 },
    );
  });
});
