import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StreamStatus } from '../../src/outbox/status.js';
import { type CliProcess, runCli, startCli } from '../support/cli.js';
import { createTestDb, inTransaction, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOKEN = 'dash-secret';

let db: TestDb;
let warehouse: string;
let serve: CliProcess | undefined;
let browser: BrowserContext | undefined;
let url = '';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A headless Chromium page (the browser is closed after each test). */
async function openPage() {
  expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install -y chromium`).toBe(true);
  const profile = await mkdtemp(join(tmpdir(), 'lh-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return browser.newPage();
}

async function ordersStatus(): Promise<StreamStatus> {
  const r = await runCli(['status', '--json'], { env: db.env });
  return (JSON.parse(r.stdout) as { streams: StreamStatus[] }).streams.find((s) => s.stream === 'orders')!;
}

beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  warehouse = await mkdtemp(join(tmpdir(), 'lh-dash-'));
  let out = '';
  serve = startCli(['serve', '--port', '0', '--roll-interval-ms', '100'], {
    ...db.env,
    LAKEHOUSE_WAREHOUSE: warehouse,
    LAKEHOUSE_DASHBOARD_TOKEN: TOKEN,
  });
  serve.child.stdout?.setEncoding('utf8').on('data', (d) => {
    out += d;
  });
  url = await until('serve to listen', async () => {
    const line = out.split('\n').find((l) => l.includes('listening'));
    return line ? (JSON.parse(line) as { listening: string }).listening : undefined;
  });
  // 30 orders delivered into the lake by a real relay.
  await inTransaction(db.pool, (c) =>
    db.outbox.emit(
      c,
      ...Array.from({ length: 30 }, (_, i) => ({
        stream: 'orders' as const,
        data: order(`o${i}`, `t${i % 3}`),
      })),
    ),
  );
  const relay = await runCli(['relay', '--until-idle'], {
    env: { ...db.env, LAKEHOUSE_SINK_URL: `${url}/ingest/{stream}`, LAKEHOUSE_LOG_LEVEL: 'warn' },
  });
  expect(relay.code, relay.stderr).toBe(0);
  await until('the lake commit', async () => {
    const r = await fetch(`${url}/sql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query: 'SELECT COUNT(*) AS n FROM orders' }),
    });
    const j = (await r.json()) as { result?: { rows: { n: number }[] } };
    return j.result?.rows[0]?.n === 30 ? true : undefined;
  });
  // 5 more events of one partition, parked as poison (what the relay does on a 400 from the sink).
  await inTransaction(db.pool, (c) =>
    db.outbox.emit(
      c,
      ...Array.from({ length: 5 }, (_, i) => ({ stream: 'orders' as const, data: order(`p${i}`, 'tp') })),
    ),
  );
  await db.pool.query(
    `WITH m AS (DELETE FROM "${db.schema}".pending WHERE partition_key = 'tp' RETURNING stream, partition_key, position)
     INSERT INTO "${db.schema}".parked (position, stream, partition_key, reason, error)
     SELECT position, stream, partition_key, 'rejected', 'sink answered 400: total_amount out of range' FROM m`,
  );
});

afterEach(async () => {
  // Every browser a test opened is closed.
  await browser?.close();
  browser = undefined;
});

afterAll(async () => {
  expect(await serve?.kill('SIGTERM')).toBe(0);
  await db?.close();
});

describe('dashboard', () => {
  it('refuses a non-loopback bind without a token', async () => {
    const r = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], {
      env: { ...db.env, LAKEHOUSE_DASHBOARD_TOKEN: '', LAKEHOUSE_WAREHOUSE: warehouse },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('LAKEHOUSE_DASHBOARD_TOKEN');
    expect((await fetch(`${url}/dashboard/api/state`)).status).toBe(401);
  });

  it('refuses a cross-origin POST to Replay (CSRF) and leaves the parked events alone', async () => {
    expect((await ordersStatus()).parked).toBe(5);
    const replay = (headers: Record<string, string>) =>
      fetch(`${url}/dashboard/api/replay?token=${TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', ...headers },
        body: '{}',
      });
    const fromOtherSite = await replay({ origin: 'http://evil.example' });
    expect(fromOtherSite.status).toBe(403);
    expect(await fromOtherSite.json()).toEqual({
      success: false,
      errors: [{ message: 'cross-origin request from http://evil.example refused' }],
    });
    expect((await replay({ 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await ordersStatus()).parked).toBe(5);
  });

  it('shows the numbers of lakehouse status, replays a parked batch and runs SQL', async () => {
    const page = await openPage();
    await page.goto(`${url}/dashboard?token=${TOKEN}`);
    const cell = (n: number) => page.locator(`#streams tr[data-stream="orders"] td:nth-child(${n})`);
    const before = await ordersStatus();
    expect(before).toMatchObject({ pending: 0, delivered: 30, parked: 5 });
    await expect.poll(() => cell(2).textContent(), { timeout: 10_000 }).toBe(String(before.pending));
    expect(await cell(4).textContent()).toBe(String(before.delivered));
    expect(await cell(7).textContent()).toBe(String(before.parked));
    await expect
      .poll(() => page.locator('#tables tr[data-table="orders"] td:nth-child(4)').textContent(), {
        timeout: 10_000,
      })
      .toBe('30');

    await page.locator('#problems button.replay[data-partition="tp"]').click();
    const after = await until('the replay', async () => {
      const s = await ordersStatus();
      return s.parked === 0 ? s : undefined;
    });
    expect(after.pending).toBe(5);
    await expect.poll(() => cell(2).textContent(), { timeout: 10_000 }).toBe('5');
    expect(await cell(7).textContent()).toBe('0');

    await page
      .locator('#sql')
      .fill('SELECT tenant_id, COUNT(*) AS n FROM orders GROUP BY tenant_id ORDER BY tenant_id');
    await page.locator('#run').click();
    await expect.poll(() => page.locator('#sql-result tbody tr').count(), { timeout: 20_000 }).toBe(3);
    expect(await page.locator('#sql-result tbody tr').first().textContent()).toBe('t010');
    await page.screenshot({ path: join(tmpdir(), 'lakehouse-dashboard.png'), fullPage: true });

    // bull-board shows the relay's BullMQ queue under /dashboard/queues.
    const queues = await fetch(`${url}/dashboard/queues/api/queues?token=${TOKEN}`);
    expect(queues.status).toBe(200);
    const names = ((await queues.json()) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toContain(`lakehouse-relay-${db.schema}`);
    await page.goto(`${url}/dashboard/queues?token=${TOKEN}`);
    await expect
      .poll(() => page.locator('body').innerText(), { timeout: 20_000 })
      .toContain(`lakehouse-relay-${db.schema}`);
    await page.screenshot({ path: join(tmpdir(), 'lakehouse-dashboard-queues.png') });
    expect((await fetch(`${url}/dashboard/queues`)).status).toBe(401);
  });

  it('warns when events are stuck, shows whether a relay runs, and draws the last hour with labelled axes across reloads', async () => {
    const page = await openPage();
    // Events waiting for ten minutes, and no relay running: the operator must see it.
    await inTransaction(db.pool, (c) => db.outbox.emit(c, { stream: 'orders', data: order('late-1', 'tl') }));
    await db.pool.query(
      `UPDATE "${db.schema}".events SET created_at = now() - interval '10 minutes'
        WHERE position IN (SELECT position FROM "${db.schema}".pending)`,
    );
    await page.goto(`${url}/dashboard?token=${TOKEN}`);
    const relay = page.locator('#relay');
    await expect.poll(() => relay.textContent(), { timeout: 15_000 }).toBe('no relay running');
    await expect
      .poll(() => page.locator('#alert').textContent(), { timeout: 10_000 })
      .toContain('no relay is running');
    expect(await page.locator('#streams tr[data-stream="orders"]').getAttribute('class')).toBe('stuck');
    // The history comes from delivery_log: the 30 delivered orders are on the chart after a reload.
    await page.reload();
    await expect.poll(() => page.locator('#chart polyline').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await page.locator('#chart').textContent()).not.toContain('no deliveries');
    expect(await page.locator('#chart .axis-label').allTextContents()).toEqual([
      'time (UTC, minute)',
      'events per minute',
    ]);
    expect(await page.locator('#chart .xtick').count()).toBe(7);
    await page.screenshot({ path: join(tmpdir(), 'lakehouse-dashboard-stuck.png'), fullPage: true });

    const running = startCli(['relay'], {
      ...db.env,
      LAKEHOUSE_SINK_URL: `${url}/ingest/{stream}`,
      LAKEHOUSE_LOG_LEVEL: 'warn',
    });
    try {
      await expect.poll(() => relay.textContent(), { timeout: 20_000 }).toMatch(/^relay running/);
      await expect.poll(() => page.locator('#alert').isVisible(), { timeout: 20_000 }).toBe(false);
      await page.screenshot({ path: join(tmpdir(), 'lakehouse-dashboard-health.png'), fullPage: true });
    } finally {
      expect(await running.kill('SIGTERM')).toBe(0);
    }
    await expect.poll(() => relay.textContent(), { timeout: 20_000 }).toBe('no relay running');
  });
});
