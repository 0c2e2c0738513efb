import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSchemaName } from '../../src/demo/businessSchema.js';
import { FIRST_TENANT_ID } from '../../src/demo/world.js';
import { CLI, runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { expectReportEquals, groundTruth } from '../support/groundTruth.js';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
});
afterAll(async () => {
  await db?.close();
});

interface DemoJson {
  emitted: number;
  delivered: number;
  pending: number;
  queries: { name: string; report: string; rows: Record<string, unknown>[] }[];
  schema: string;
  run: number;
  continued: boolean;
  dashboard: string | null;
  catalog: string | null;
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as DemoJson;

describe('lakehouse demo', () => {
  it('runs the platform with the five queries, continues the same world on a second run and starts afresh with --reset', async () => {
    const warehouse = join(await mkdtemp(join(tmpdir(), 'lh-demo-')), 'wh');
    const args = ['demo', '--schema', db.schema, '--warehouse', warehouse, '--port', '0', '--json'];
    const first = await runCli(
      [...args, '--tenants', '3', '--days', '60', '--duration', '2', '--rate', '10'],
      {
        env: db.env,
      },
    );
    expect(first.code, first.stderr).toBe(0);
    const out = lastJson(first.stdout);
    expect(out).toMatchObject({ pending: 0, schema: db.schema, run: 1, continued: false });
    expect(out.delivered).toBe(out.emitted);
    expect(out.queries.map((q) => q.name)).toHaveLength(5);
    const [revenue, trend, prices, health, churn] = out.queries;
    expect(revenue!.rows).toHaveLength(3);
    expect(trend!.rows.map((x) => [x.year, x.month]).slice(0, 2)).toEqual([
      [2026, 1],
      [2026, 2],
    ]);
    expect(prices!.rows.length).toBeGreaterThan(0);
    expect(health!.rows[0]!.active_tenants).toBe(3);
    expect(churn!.rows.length).toBeGreaterThan(0);
    // Each printed report equals the answer of the business tables (the books).
    const books = demoSchemaName(db.schema);
    const params = [
      { month: '2026-02' },
      { tenant: FIRST_TENANT_ID },
      undefined,
      { month: '2026-02' },
      { month: '2026-02' },
    ];
    for (const [i, q] of out.queries.entries()) {
      const p = params[i];
      if (!p) continue; // price changes: the demo keeps no price history in its business tables
      const truth = await groundTruth(db.pool, books, q.report, p);
      expectReportEquals(
        { name: q.report, title: q.name, sql: '', columns: [], rows: q.rows } as never,
        truth,
        q.name,
      );
    }
    // Nothing serves the URLs once the demo ended, so none are given.
    expect(out.catalog).toBeNull();

    // The lake holds exactly the delivered events (deduplicated by event_id).
    const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${db.schema}".events`);
    expect(Number(rows[0]!.n)).toBe(out.emitted);

    // Second run on the same database: the same world goes on, its history is not written again.
    const second = await runCli([...args, '--duration', '1', '--rate', '10'], { env: db.env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('continuing the world');
    const again = lastJson(second.stdout);
    expect(again).toMatchObject({ pending: 0, run: 2, continued: true });
    expect(again.queries.map((q) => q.name)).toEqual(out.queries.map((q) => q.name));
    expect(again.queries[0]!.rows).toEqual(revenue!.rows);
    expect(again.delivered).toBe(out.emitted + again.emitted);

    const reset = await runCli([...args, '--reset', '--tenants', '2', '--days', '35', '--duration', '1'], {
      env: db.env,
    });
    expect(reset.code, reset.stderr).toBe(0);
    const fresh = lastJson(reset.stdout);
    expect(fresh).toMatchObject({ pending: 0, run: 1, continued: false });
    expect(fresh.delivered).toBe(fresh.emitted);
    expect(fresh.queries[3]!.rows[0]!.active_tenants).toBe(2);
  });

  it('refuses a schema holding events it did not write, and a warehouse it did not write, with exit 2', async () => {
    const other = await createTestDb(import.meta.filename);
    try {
      await other.outbox.emit(other.pool, { stream: 'orders', data: order('real-1') });
      const warehouse = await mkdtemp(join(tmpdir(), 'lh-demo-'));
      const r = await runCli(['demo', '--schema', other.schema, '--warehouse', warehouse, '--port', '0'], {
        env: other.env,
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`schema "${other.schema}" holds events the demo did not write`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const { rows } = await other.pool.query(`SELECT count(*)::int AS n FROM "${other.schema}".events`);
      expect(rows[0].n).toBe(1);

      const foreign = await mkdtemp(join(tmpdir(), 'lh-demo-'));
      await writeFile(join(foreign, 'notes.txt'), 'mine');
      const w = await runCli(
        ['demo', '--schema', `${other.schema}_x`, '--warehouse', foreign, '--port', '0'],
        {
          env: other.env,
        },
      );
      expect(w.code).toBe(2);
      expect(w.stderr).toContain('holds data the demo did not write');
    } finally {
      await other.close();
    }
  });

  it('stops cleanly with exit 0 on SIGTERM while it keeps running (lake like Cloudflare), printing the URLs it serves', async () => {
    const warehouse = join(await mkdtemp(join(tmpdir(), 'lh-demo-')), 'wh');
    const schema = `${db.schema.slice(0, 50)}_k`;
    const child = spawn(
      process.execPath,
      [
        CLI,
        ...['demo', '--schema', schema, '--warehouse', warehouse, '--port', '0'],
        ...['--tenants', '2', '--days', '35', '--duration', '1', '--keep-running', '--like-cloudflare'],
      ],
      { env: db.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | string>((resolve) =>
      child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
    );
    const deadline = Date.now() + 180_000;
    while (!stderr.includes('press Ctrl-C') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(stdout).toContain('Revenue by tenant');
    const m = /Dashboard: +(http:\/\/\S+)\/dashboard/.exec(stdout);
    expect(m).not.toBeNull();
    // Still serving after the results.
    const health = await fetch(`${m![1]}/health`);
    expect(health.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await db.pool.query(
      `DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_app" CASCADE`,
    );
  });
});
