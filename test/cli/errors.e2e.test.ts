import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { startServer } from '../support/httpServer.js';
import { freePort } from '../support/services.js';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
});
afterAll(() => db.close());

const STACK = /\n\s+at /;

/** The documented shape: exit code, one line with what went wrong and what to do, no stack trace. */
function expectExplained(r: CliResult, code: number, ...parts: string[]): void {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).not.toMatch(STACK);
  for (const p of parts) expect(r.stderr).toContain(p);
}

const activity = (query: string) =>
  `${JSON.stringify({
    tenant_id: 't1',
    site_id: 's1',
    session_id: 'sess-1',
    user_id: null,
    activity_type: 'search',
    path: '/search',
    search_query: query,
    occurred_at: '2026-02-01T10:00:00Z',
  })}\n`;

describe('CLI errors say what to do, with the documented exit code and no stack trace', () => {
  it('status before migrate: exit 2, run `lakehouse migrate`', async () => {
    const r = await runCli(['status'], { env: { ...db.env, LAKEHOUSE_DB_SCHEMA: `${db.schema}_none` } });
    expectExplained(r, 2, `"${db.schema}_none" is not migrated`, 'run `lakehouse migrate`');
  });

  it('relay before migrate: exit 2 at start, run `lakehouse migrate` (instead of retrying forever)', async () => {
    const r = await runCli(['relay', '--until-idle'], {
      env: { ...db.env, LAKEHOUSE_DB_SCHEMA: `${db.schema}_none`, LAKEHOUSE_LOG_LEVEL: 'error' },
    });
    expectExplained(r, 2, `"${db.schema}_none" is not migrated`, 'run `lakehouse migrate`');
  });

  it('an unknown database: exit 2 naming it and DATABASE_URL', async () => {
    const url = db.databaseUrl.replace(/\/[^/]*$/, '/lh_no_such_database');
    const r = await runCli(['status'], { env: { ...db.env, DATABASE_URL: url } });
    expectExplained(r, 2, 'database "lh_no_such_database" does not exist', 'DATABASE_URL');
  });

  it('a malformed DATABASE_URL: exit 2 with the expected form', async () => {
    const r = await runCli(['status'], { env: { ...db.env, DATABASE_URL: 'postgres//base' } });
    expectExplained(r, 2, 'DATABASE_URL "postgres//base" is not a valid URL', 'postgres://');
  });

  it('PostgreSQL unreachable: exit 2 naming PostgreSQL and DATABASE_URL', async () => {
    const port = await freePort();
    const r = await runCli(['status'], {
      env: { ...db.env, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/x` },
    });
    expectExplained(r, 2, 'cannot reach PostgreSQL', 'DATABASE_URL');
  });

  it('Redis unreachable when the relay starts: exit 2 naming Redis and REDIS_URL', async () => {
    const port = await freePort();
    const r = await runCli(['relay'], { env: { ...db.env, REDIS_URL: `redis://127.0.0.1:${port}` } });
    expectExplained(r, 2, 'cannot reach Redis', 'REDIS_URL');
  });

  it('a port in use: exit 2 suggesting another --port', async () => {
    const taken = await startServer((_req, res) => res.end());
    try {
      const warehouse = await mkdtemp(join(tmpdir(), 'lh-err-'));
      const r = await runCli(['serve', '--port', String(taken.port), '--warehouse', warehouse], {
        env: db.env,
      });
      expectExplained(r, 2, `127.0.0.1:${taken.port}`, 'already in use', '--port');
    } finally {
      await taken.close();
    }
  });

  it('a typo in backfill --sql: exit 2 with PostgreSQL message and the position in the query', async () => {
    const r = await runCli(['backfill', 'orders', '--sql', 'SELECT order_id FORM shop_orders'], {
      env: db.env,
    });
    expectExplained(r, 2, '--sql is not a valid query', 'syntax error', 'at character 22');
  });

  it('a PostgreSQL error during emit names the line and writes nothing of its batch: exit 1', async () => {
    const input = activity('fine') + activity('nul \u0000 inside');
    const r = await runCli(['emit', 'user_activity', '--no-wake'], { env: db.env, input });
    expectExplained(
      r,
      1,
      'line 2: PostgreSQL rejected the record',
      'the batch starting at line 1 was not written',
    );
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".events`);
    expect(rows[0].n).toBe(0);
  });

  it('compact --table with an unknown table: exit 2 naming it', async () => {
    const warehouse = await mkdtemp(join(tmpdir(), 'lh-err-'));
    const r = await runCli(['compact', '--table', 'nope', '--warehouse', warehouse], { env: db.env });
    expectExplained(r, 2, 'no table "nope"');
  });

  it('prune --older-than without a unit: exit 2 with the unit to add', async () => {
    const r = await runCli(['prune', '--older-than', '7'], { env: db.env });
    expectExplained(r, 2, '"7" has no unit', '7d');
  });

  it('LAKEHOUSE_DEBUG=1 adds the stack trace', async () => {
    const r = await runCli(['status'], {
      env: { ...db.env, LAKEHOUSE_DB_SCHEMA: `${db.schema}_none`, LAKEHOUSE_DEBUG: '1' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(STACK);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });
});
