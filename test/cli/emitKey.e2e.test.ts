import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
});
afterAll(() => db.close());

const ndjson = (...records: object[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
const count = async () =>
  (await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".events`)).rows[0].n as number;

describe('lakehouse emit --key', () => {
  it('derives event ids from the key fields, so emitting the same file twice writes it once', async () => {
    const input = ndjson(order('k-1'), order('k-2'), order('k-3'));
    const args = ['emit', 'orders', '--key', 'order_id,status', '--json', '--no-wake'];
    const first = await runCli(args, { env: db.env, input });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ written: 3, duplicates: 0 });
    const second = await runCli(args, { env: db.env, input });
    expect(JSON.parse(second.stdout)).toMatchObject({ written: 0, duplicates: 3 });
    expect(await count()).toBe(3);
    // Another status of the same order is another event.
    const paid = await runCli(args, { env: db.env, input: ndjson(order('k-1', 't1', { status: 'paid' })) });
    expect(JSON.parse(paid.stdout)).toMatchObject({ written: 1, duplicates: 0 });
  });

  it('rejects a line without a key field, naming the line and the field', async () => {
    const { customer_id: _, ...noCustomer } = order('k-9');
    const r = await runCli(['emit', 'orders', '--key', 'customer_id', '--no-wake'], {
      env: db.env,
      input: ndjson(noCustomer),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('line 1: field "customer_id": is a --key field and must be present');
  });
});
