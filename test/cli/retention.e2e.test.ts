import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CliProcess, runCli, startCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { type SinkServer, startSinkServer, waitFor } from '../support/sinkServer.js';

let db: TestDb;
let sink: SinkServer;
const started: CliProcess[] = [];
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  sink = await startSinkServer();
});
afterEach(async () => {
  for (const p of started.splice(0)) await p.kill('SIGKILL');
});
afterAll(async () => {
  await sink.close();
  await db.close();
});

const env = () => ({ ...db.env, LAKEHOUSE_SINK_URL: sink.url, LAKEHOUSE_LOG_LEVEL: 'info' });
const relay = (args: string[]) => {
  const p = startCli(['relay', ...args], env());
  started.push(p);
  return p;
};
const emit = async (ids: string[]) => {
  const input = `${ids.map((id) => JSON.stringify(order(id, 'ret'))).join('\n')}\n`;
  const r = await runCli(['emit', 'orders', '--no-wake'], { env: env(), input });
  expect(r.code, r.stderr).toBe(0);
};
const orderIds = async () =>
  (
    await db.pool.query<{ id: string }>(
      `SELECT payload->>'order_id' AS id FROM "${db.schema}".events ORDER BY position`,
    )
  ).rows.map((r) => r.id);
const backdate = (ids: string[]) =>
  db.pool.query(
    `UPDATE "${db.schema}".events SET created_at = now() - interval '10 days' WHERE payload->>'order_id' = ANY($1)`,
    [ids],
  );
/** Statements of this test's schema that wait for a lock (the prune's DELETE behind our row lock). */
const blockedDeletes = async () =>
  (
    await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE query LIKE '%DELETE FROM "${db.schema}".events%' AND state = 'active' AND pid <> pg_backend_pid()`,
    )
  ).rows[0]?.n ?? 0;

describe('lakehouse relay --prune-older-than (scheduled retention)', () => {
  it('refuses a bare number and --until-idle with exit 2', async () => {
    const bare = await runCli(['relay', '--prune-older-than', '7'], { env: env() });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('"7" has no unit');
    const idle = await runCli(['relay', '--until-idle', '--prune-older-than', '7d'], { env: env() });
    expect(idle.code).toBe(2);
    expect(idle.stderr).toContain('lakehouse prune');
  });

  it('exits 0 promptly on SIGTERM while its prune waits on a row lock, cancelling the DELETE', async () => {
    await emit(['ret-1', 'ret-2']);
    expect((await runCli(['relay', '--until-idle'], { env: env() })).code).toBe(0);
    await backdate(['ret-1', 'ret-2']);
    const locker = new pg.Client({ connectionString: db.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(
        `SELECT 1 FROM "${db.schema}".events WHERE payload->>'order_id' = 'ret-1' FOR UPDATE`,
      );
      const p = relay(['--prune-older-than', '7d']);
      await waitFor(async () => (await blockedDeletes()) > 0, { timeoutMs: 20_000, message: p.stderr() });
      const t0 = Date.now();
      expect(await p.kill('SIGTERM'), p.stderr()).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(p.stderr()).toContain('prune stopped by shutdown');
      await waitFor(async () => (await blockedDeletes()) === 0, { message: 'the DELETE still runs' });
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    expect(await orderIds()).toEqual(['ret-1', 'ret-2']);
  });

  it('deletes old delivered events while running and keeps pending and recent ones', async () => {
    await emit(['ret-3']); // delivered, recent
    expect((await runCli(['relay', '--until-idle'], { env: env() })).code).toBe(0);
    await sink.setFaults({ failRate: 1 }); // what is emitted now stays pending
    await emit(['ret-4', 'ret-5']);
    await backdate(['ret-4', 'ret-5']);
    const p = relay(['--prune-older-than', '7d', '--prune-interval', '1h']);
    await waitFor(async () => (await orderIds()).length === 3, { timeoutMs: 20_000, message: p.stderr() });
    expect(await orderIds()).toEqual(['ret-3', 'ret-4', 'ret-5']);
    await waitFor(() => p.stderr().includes('"deleted":2'), { message: p.stderr() });
    expect(await p.kill('SIGTERM')).toBe(0);
    const pending = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".pending`);
    expect(pending.rows[0].n).toBe(2);
    await sink.setFaults({ failRate: undefined });
  });
});
