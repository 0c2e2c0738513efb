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
const pendingOf = async (stream: string) => {
  const r = await runCli(['status', '--json'], { env: db.env });
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout).streams.find((s: { stream: string }) => s.stream === stream);
};

describe('lakehouse CLI: migrate, emit, status', () => {
  it('migrates twice without error', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['migrate', '--json'], { env: db.env });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ schema: db.schema, applied: 0, total: 3 });
    }
  });

  it('emits three orders, shows them pending, and rejects a file whose line 2 lacks tenant_id without writing it', async () => {
    const ok = await runCli(['emit', 'orders', '--json', '--no-wake'], {
      env: db.env,
      input: ndjson(order('cli-1'), order('cli-2'), order('cli-3')),
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ written: 3, duplicates: 0, rejected: 0 });
    expect(await pendingOf('orders')).toMatchObject({
      stream: 'orders',
      pending: 3,
      delivered: 0,
      parked: 0,
    });

    const { tenant_id: _, ...noTenant } = order('cli-5');
    const bad = await runCli(['emit', 'orders', '--json', '--no-wake'], {
      env: db.env,
      input: ndjson(order('cli-4'), noTenant),
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('line 2');
    expect(bad.stderr).toContain('tenant_id');
    expect(JSON.parse(bad.stdout)).toEqual({ written: 0, duplicates: 0, rejected: 1 });
    expect((await pendingOf('orders')).pending).toBe(3);
  });

  it('uses a given event_id as the idempotency key across runs', async () => {
    const line = ndjson({ event_id: '0195134f-8258-7e85-a000-00000000c11a', ...order('cli-idem') });
    const first = await runCli(['emit', 'orders', '-', '--json', '--no-wake'], { env: db.env, input: line });
    const second = await runCli(['emit', 'orders', '-', '--json', '--no-wake'], { env: db.env, input: line });
    expect(JSON.parse(first.stdout)).toMatchObject({ written: 1, duplicates: 0 });
    expect(JSON.parse(second.stdout)).toMatchObject({ written: 0, duplicates: 1 });
  });

  it('names the line of invalid JSON, a bad option value and an unknown stream', async () => {
    const json = await runCli(['emit', 'orders', '--no-wake'], { env: db.env, input: '{"order_id": \n' });
    expect(json.code).toBe(1);
    expect(json.stderr).toMatch(/line 1: .*invalid JSON/);
    const size = await runCli(['emit', 'orders', '--batch-size', '0'], { env: db.env, input: '' });
    expect(size.code).toBe(2);
    expect(size.stderr).toContain('--batch-size must be a positive integer, got "0"');
    expect(size.stderr).not.toContain('    at '); // a message, not a stack trace
    const stream = await runCli(['emit', 'invoices'], { env: db.env, input: '' });
    expect(stream.code).toBe(2);
    expect(stream.stderr).toContain('unknown stream "invoices"');
  });

  it('writes in all-or-nothing batches of --batch-size and reports the committed count on failure', async () => {
    const records = Array.from({ length: 5 }, (_, i) => order(`batch-${i}`, 'batch-tenant'));
    const input = ndjson(...records.slice(0, 4), { ...records[4], total_amount: 'free' });
    const r = await runCli(['emit', 'orders', '--batch-size', '2', '--json', '--no-wake'], {
      env: db.env,
      input,
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ written: 4, rejected: 1 });
    expect(r.stderr).toContain('line 5');
  });
});

describe('every command has --help', () => {
  const commands = [
    [],
    ['migrate'],
    ['emit'],
    ['status'],
    ['relay'],
    ['replay'],
    ['discard'],
    ['prune'],
    ['pipelines', 'plan'],
    ['pipelines', 'apply'],
    ['serve'],
    ['query'],
    ['report'],
    ['reconcile'],
    ['compact'],
    ['expire-snapshots'],
  ];
  it.each(commands.map((c) => [c.join(' ') || '(none)', c]))(
    'lakehouse %s --help exits 0 with usage',
    async (_, args) => {
      const r = await runCli([...(args as string[]), '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: lakehouse');
    },
  );
});
