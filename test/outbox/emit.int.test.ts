import { drizzle } from 'drizzle-orm/node-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '../../src/domain/envelope.js';
import { isValidationError } from '../../src/errors.js';
import { createTestDb, inTransaction, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
});
afterAll(() => db.close());

async function count(table: 'events' | 'pending', where = 'true', params: unknown[] = []): Promise<number> {
  const { rows } = await db.pool.query(
    `SELECT count(*)::int AS n FROM "${db.schema}".${table} WHERE ${where}`,
    params,
  );
  return rows[0].n;
}

describe('emit inside the caller transaction', () => {
  it('stores nothing when the transaction rolls back', async () => {
    const e = createEvent('orders', order('rollback-1'));
    await expect(
      inTransaction(db.pool, async (c) => {
        await db.outbox.emit(c, e);
        throw new Error('business write failed');
      }),
    ).rejects.toThrow('business write failed');
    expect(await count('events', 'event_id = $1', [e.event_id])).toBe(0);
    expect(await count('pending')).toBe(0);
  });

  it('stores every event of a committed transaction, in emit order, each pending', async () => {
    const events = ['c-1', 'c-2', 'c-3'].map((id) => createEvent('orders', order(id)));
    const r = await inTransaction(db.pool, (c) => db.outbox.emit(c, ...events));
    expect(r.written).toBe(3);
    const { rows } = await db.pool.query(
      `SELECT e.event_id::text AS id FROM "${db.schema}".events e
         JOIN "${db.schema}".pending p ON p.position = e.position
        WHERE e.event_id = ANY($1::uuid[]) ORDER BY e.position`,
      [events.map((e) => e.event_id)],
    );
    expect(rows.map((x) => x.id)).toEqual(events.map((e) => e.event_id));
  });

  it('works with a drizzle transaction: commit stores, rollback stores nothing', async () => {
    const d = drizzle(db.pool);
    const e = createEvent('orders', order('drizzle-1'));
    const r = await d.transaction(async (tx) => db.outbox.emit(tx, e));
    expect(r.written).toBe(1);
    expect(await count('events', 'event_id = $1', [e.event_id])).toBe(1);
    const rolledBack = createEvent('orders', order('drizzle-2'));
    await expect(
      d.transaction(async (tx) => {
        await db.outbox.emit(tx, rolledBack);
        tx.rollback();
      }),
    ).rejects.toThrow();
    expect(await count('events', 'event_id = $1', [rolledBack.event_id])).toBe(0);
  });

  it('does not store an event_id twice and reports it as a duplicate', async () => {
    const e = createEvent('orders', order('dup-1'));
    const first = await inTransaction(db.pool, (c) => db.outbox.emit(c, e));
    const again = await inTransaction(db.pool, (c) =>
      db.outbox.emit(c, e, createEvent('orders', order('dup-2'))),
    );
    expect(first).toMatchObject({ written: 1, duplicates: [] });
    expect(again.written).toBe(1);
    expect(again.duplicates).toEqual([e.event_id]);
    expect(await count('events', 'event_id = $1', [e.event_id])).toBe(1);
    expect(await count('pending', 'position = ANY($1::bigint[])', [first.positions])).toBe(1);
  });

  it('stores an event_id once when two transactions emit it concurrently', async () => {
    const e = createEvent('orders', order('race-1'));
    const [a, b] = await Promise.all([
      inTransaction(db.pool, (c) => db.outbox.emit(c, e)),
      inTransaction(db.pool, (c) => db.outbox.emit(c, e)),
    ]);
    expect(a.written + b.written).toBe(1);
    expect(a.duplicates.length + b.duplicates.length).toBe(1);
    expect(await count('events', 'event_id = $1', [e.event_id])).toBe(1);
  });

  it('rejects an invalid event before writing anything from the same call', async () => {
    const good = createEvent('orders', order('valid-before-bad'));
    const before = await count('events');
    const err = await inTransaction(db.pool, (c) =>
      db.outbox.emit(c, good, { stream: 'orders', data: { ...order('bad'), tenant_id: undefined } as never }),
    ).catch((e) => e);
    expect(isValidationError(err)).toBe(true);
    expect(err.issues[0]).toMatchObject({ stream: 'orders', field: 'tenant_id', index: 1 });
    expect(await count('events')).toBe(before);
  });

  it('writes many events in a single statement (one round trip)', async () => {
    const events = Array.from({ length: 200 }, (_, i) =>
      createEvent('orders', order(`bulk-${i}`, `t${i % 7}`)),
    );
    const client = await db.pool.connect();
    const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
    let statements = 0;
    const counting = {
      query: (...args: unknown[]) => {
        statements++;
        return query(...args);
      },
    };
    try {
      await query('BEGIN');
      const r = await db.outbox.emit(counting as never, ...events);
      await query('COMMIT');
      expect(r.written).toBe(200);
      expect(r.partitions).toHaveLength(7);
      expect(statements).toBe(1);
    } finally {
      client.release();
    }
  });
});
