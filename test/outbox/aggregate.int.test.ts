import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldEvents } from '../../src/domain/aggregate.js';
import { cancelOrder, orderAggregate, payOrder, placeOrder, refundOrder } from '../../src/domain/order.js';
import { isConcurrencyError, isLakehouseError } from '../../src/errors.js';
import { createTestDb, inTransaction, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
});
afterAll(() => db.close());

const { status: _, ...newOrder } = order('agg-1');
const ref = (id: string) => ({ type: 'order', id });

async function load(id: string) {
  const events = await db.outbox.readStream(db.pool, ref(id));
  return foldEvents(orderAggregate, events as never);
}

describe('event-sourced Order aggregate', () => {
  it('appends with versions and rebuilds the aggregate by folding its stream', async () => {
    const placed = placeOrder(orderAggregate.initialState(), { ...newOrder, order_id: 'fold-1' });
    await inTransaction(db.pool, (c) =>
      db.outbox.appendToStream(c, ref('fold-1'), [placed], { expectedVersion: 0 }),
    );
    let state = await load('fold-1');
    expect(state).toMatchObject({ status: 'placed', version: 1 });
    const paid = payOrder(state, 'card');
    const r = await inTransaction(db.pool, (c) =>
      db.outbox.appendToStream(c, ref('fold-1'), [paid], { expectedVersion: 1 }),
    );
    expect(r.nextVersion).toBe(2);
    state = await load('fold-1');
    expect(state).toMatchObject({
      status: 'paid',
      version: 2,
      record: { payment_method: 'card', order_id: 'fold-1' },
    });
    const stored = await db.outbox.readStream(db.pool, ref('fold-1'));
    expect(stored.map((e) => [e.version, e.event_type])).toEqual([
      [1, 'order.placed'],
      [2, 'order.paid'],
    ]);
  });

  it('fails an append with a stale expected version with a typed error and writes nothing', async () => {
    const placed = placeOrder(orderAggregate.initialState(), { ...newOrder, order_id: 'stale-1' });
    await inTransaction(db.pool, (c) =>
      db.outbox.appendToStream(c, ref('stale-1'), [placed], { expectedVersion: 0 }),
    );
    const state = await load('stale-1');
    const { rows: before } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".events`);
    const err = await inTransaction(db.pool, (c) =>
      db.outbox.appendToStream(c, ref('stale-1'), [cancelOrder(state)], { expectedVersion: 0 }),
    ).catch((e) => e);
    expect(isConcurrencyError(err)).toBe(true);
    expect(err).toMatchObject({ expectedVersion: 0, actualVersion: 1, streamId: 'stale-1' });
    const { rows: after } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".events`);
    expect(after[0].n).toBe(before[0].n);
  });

  it('lets exactly one of two concurrent appends at the same version win', async () => {
    const placed = placeOrder(orderAggregate.initialState(), { ...newOrder, order_id: 'race-1' });
    await inTransaction(db.pool, (c) =>
      db.outbox.appendToStream(c, ref('race-1'), [placed], { expectedVersion: 0 }),
    );
    const state = await load('race-1');
    const results = await Promise.allSettled([
      inTransaction(db.pool, (c) =>
        db.outbox.appendToStream(c, ref('race-1'), [payOrder(state, 'card')], { expectedVersion: 1 }),
      ),
      inTransaction(db.pool, (c) =>
        db.outbox.appendToStream(c, ref('race-1'), [cancelOrder(state)], { expectedVersion: 1 }),
      ),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(isConcurrencyError(rejected.reason)).toBe(true);
    expect((await load('race-1')).version).toBe(2);
  });

  it('treats a retried append of the same events as a duplicate, not a conflict', async () => {
    const placed = placeOrder(orderAggregate.initialState(), { ...newOrder, order_id: 'retry-1' });
    await inTransaction(db.pool, (c) =>
      db.outbox.appendToStream(c, ref('retry-1'), [placed], { expectedVersion: 0 }),
    );
    const again = await inTransaction(db.pool, (c) =>
      db.outbox.appendToStream(c, ref('retry-1'), [placed], { expectedVersion: 0 }),
    );
    expect(again).toMatchObject({ duplicate: true, written: 0, nextVersion: 1 });
  });

  it('refuses a transition the order cannot make', () => {
    const cancelled = {
      status: 'cancelled' as const,
      version: 2,
      record: { ...order('x'), status: 'cancelled' as const },
    };
    const err = (() => {
      try {
        refundOrder(cancelled as never);
      } catch (e) {
        return e;
      }
    })();
    expect(isLakehouseError(err)).toBe(true);
    expect((err as Error).message).toContain('cannot become refunded from cancelled');
  });
});
