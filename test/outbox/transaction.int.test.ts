import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '../../src/domain/envelope.js';
import { ValidationError } from '../../src/errors.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  await db.pool.query(`CREATE TABLE "${db.schema}".shop (id text PRIMARY KEY)`);
});
afterAll(() => db.close());

const count = async (sql: string, params: unknown[] = []) =>
  Number((await db.pool.query<{ n: string }>(sql, params)).rows[0]?.n);

describe('outbox.transaction (events sent with COMMIT)', () => {
  it('commits the business row and the buffered events together, each pending in its lane, in emit order', async () => {
    const events = ['tx-1', 'tx-2', 'tx-3'].map((id) => createEvent('orders', order(id, 'tx-tenant')));
    const { result, emitted } = await db.outbox.transaction(db.pool, async (tx) => {
      await tx.client.query(`INSERT INTO "${db.schema}".shop (id) VALUES ('a')`);
      tx.emit(...events);
      return 'done';
    });
    expect(result).toBe('done');
    expect(emitted).toMatchObject({ written: 3, duplicates: [] });
    expect(emitted.partitions).toEqual([
      { stream: 'orders', partitionKey: 'tx-tenant', lane: expect.any(Number) },
    ]);
    const { rows } = await db.pool.query(
      `SELECT e.event_id::text AS id FROM "${db.schema}".events e JOIN "${db.schema}".pending p ON p.position = e.position
        WHERE e.event_id = ANY($1::uuid[]) ORDER BY e.position`,
      [events.map((e) => e.event_id)],
    );
    expect(rows.map((r) => r.id)).toEqual(events.map((e) => e.event_id));
    expect(await count(`SELECT count(*) AS n FROM "${db.schema}".shop WHERE id = 'a'`)).toBe(1);
  });

  it('writes nothing when the callback throws or an emitted event is invalid, and reports stored ids as duplicates', async () => {
    const e = createEvent('orders', order('tx-dup', 'tx-tenant'));
    await expect(
      db.outbox.transaction(db.pool, async (tx) => {
        await tx.client.query(`INSERT INTO "${db.schema}".shop (id) VALUES ('b')`);
        tx.emit(e);
        throw new Error('business failure');
      }),
    ).rejects.toThrow('business failure');
    await expect(
      db.outbox.transaction(db.pool, async (tx) => {
        await tx.client.query(`INSERT INTO "${db.schema}".shop (id) VALUES ('c')`);
        tx.emit({ stream: 'orders', data: { order_id: 'no-tenant' } } as never);
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await count(`SELECT count(*) AS n FROM "${db.schema}".shop WHERE id IN ('b', 'c')`)).toBe(0);
    expect(
      await count(`SELECT count(*) AS n FROM "${db.schema}".events WHERE event_id = $1`, [e.event_id]),
    ).toBe(0);

    await db.outbox.transaction(db.pool, async (tx) => tx.emit(e));
    const again = await db.outbox.transaction(db.pool, async (tx) => tx.emit(e));
    expect(again.emitted).toMatchObject({ written: 0, duplicates: [e.event_id] });
  });
});
