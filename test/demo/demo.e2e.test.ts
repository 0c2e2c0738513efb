import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSchemaName } from '../../src/demo/businessSchema.js';
import { FIRST_TENANT_ID } from '../../src/demo/world.js';
import { CLI, runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
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
  dashboard: string | null;
  catalog: string;
}

describe('lakehouse demo', () => {
  it('runs the platform, prints the five queries with data and leaves nothing pending', async () => {
    const warehouse = await mkdtemp(join(tmpdir(), 'lh-demo-'));
    const r = await runCli(
      ['demo', '--port', '0', '--tenants', '3', '--days', '60', '--duration', '2', '--rate', '10', '--json'],
      { env: { ...db.env, LAKEHOUSE_WAREHOUSE: warehouse } },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as DemoJson;
    expect(out.pending).toBe(0);
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
    expect(out.catalog).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/catalog/);

    // The lake holds exactly the delivered events (deduplicated by event_id).
    const { rows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM "${db.schema}".events`);
    expect(Number(rows[0]!.n)).toBe(out.emitted);

    const status = await runCli(['status', '--json'], { env: db.env });
    expect(status.code).toBe(0);
    const streams = (JSON.parse(status.stdout) as { streams: { pending: number }[] }).streams;
    expect(streams.reduce((n, s) => n + s.pending, 0)).toBe(0);
  });

  it('stops cleanly with exit 0 on SIGTERM while it keeps running (lake like Cloudflare)', async () => {
    const warehouse = await mkdtemp(join(tmpdir(), 'lh-demo-'));
    const child = spawn(
      process.execPath,
      [
        CLI,
        'demo',
        '--port',
        '0',
        '--tenants',
        '2',
        '--days',
        '35',
        '--duration',
        '1',
        '--keep-running',
        '--like-cloudflare',
      ],
      { env: { ...db.env, LAKEHOUSE_WAREHOUSE: warehouse }, stdio: ['ignore', 'pipe', 'pipe'] },
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
  });
});
