import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';

const ROWS = 20_000;
const BAD = 7; // rows 1000, 2000, ... 7000 have a negative amount

let db: TestDb;
let sql: string;
const eventCount = async () =>
  Number((await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${db.schema}".events`)).rows[0]!.n);

beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  await db.pool.query(`
    CREATE TABLE "${db.schema}".shop_orders AS
    SELECT 'o-' || g AS id, '0195134f-8258-7e85' AS tenant, 'site-1' AS site, 'c-' || (g % 97) AS customer,
           (CASE WHEN g % 1000 = 0 AND g <= ${BAD * 1000} THEN -1 ELSE 10 + g % 90 END)::numeric(12,2) AS total,
           'paid' AS status, 1 + g % 5 AS items,
           timestamptz '2025-01-01' + g * interval '10 minutes' AS created
      FROM generate_series(1, ${ROWS}) g`);
  sql = `SELECT id AS order_id, tenant AS tenant_id, site AS site_id, customer AS customer_id,
    total AS total_amount, 'EUR' AS currency, status, 'card' AS payment_method, items AS item_count,
    created AS created_at FROM "${db.schema}".shop_orders ORDER BY id`;
});
afterAll(async () => {
  await db?.close();
});

describe('lakehouse backfill', () => {
  it('rejects a SELECT with a column the stream does not have, naming it', async () => {
    const r = await runCli(
      ['backfill', 'orders', '--sql', `SELECT id AS order_id, 1 AS bogus FROM "${db.schema}".shop_orders`],
      {
        env: db.env,
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bogus');
    expect(await eventCount()).toBe(0);
  });

  it('validates only with --dry-run', async () => {
    const r = await runCli(['backfill', 'orders', '--sql', sql, '--dry-run', '--json'], { env: db.env });
    expect(JSON.parse(r.stdout)).toMatchObject({ read: ROWS, written: 0, duplicates: 0, rejected: BAD });
    expect(await eventCount()).toBe(0);
  });

  it('is interrupted by SIGINT mid-way, resumes without duplicates and reports rejects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lh-backfill-'));
    const child = spawn(
      process.execPath,
      [CLI, 'backfill', 'orders', '--sql', sql, '--batch-size', '100', '--json'],
      {
        env: db.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.resume();
    const exited = new Promise<number | string>((resolve) =>
      child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    );
    const deadline = Date.now() + 60_000;
    while ((await eventCount()) < 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const first = JSON.parse(stdout) as { read: number; written: number; interrupted: boolean };
    expect(first.interrupted).toBe(true);
    expect(first.read).toBeLessThan(ROWS);
    const afterFirst = await eventCount();
    expect(afterFirst).toBe(first.written);

    const rejects = join(dir, 'rejects.ndjson');
    const second = await runCli(['backfill', 'orders', '--sql', sql, '--json', '--rejects', rejects], {
      env: db.env,
    });
    expect(second.code, second.stderr).toBe(1); // rows were rejected
    const summary = JSON.parse(second.stdout);
    expect(summary).toMatchObject({ read: ROWS, rejected: BAD, interrupted: false });
    expect(summary.written + summary.duplicates).toBe(ROWS - BAD);
    expect(summary.duplicates).toBe(afterFirst);
    expect(await eventCount()).toBe(ROWS - BAD);

    const lines = (await readFile(rejects, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(BAD);
    expect(lines[0]).toMatchObject({ key: { order_id: 'o-1000' } });
    expect(lines[0].row).toBeGreaterThan(0);
    expect(lines[0].error).toContain('total_amount');

    // A third run writes nothing new.
    const third = await runCli(['backfill', 'orders', '--sql', sql, '--json'], { env: db.env });
    expect(JSON.parse(third.stdout)).toMatchObject({ written: 0, duplicates: ROWS - BAD });
    expect(await eventCount()).toBe(ROWS - BAD);
  });
});
