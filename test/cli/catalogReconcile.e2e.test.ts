import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { httpSqlExecutor } from '../../src/reports/reconcile.js';
import { killAll, type ServeProcess, serve } from '../lakehouse/processes.js';
import { type CliProcess, runCli, startCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { makeProject } from '../support/project.js';
import { waitFor } from '../support/sinkServer.js';

/**
 * Reconcile and prune's rollup follow the project's catalog: a stream of its own (`refunds`,
 * money field `amount`) is checked by `reconcile`, and `prune` (and the relay's scheduled
 * prune) roll its deleted events up, so reconcile still matches afterwards.
 */

const CONFIG = `import { z } from 'zod';
import { defaultCatalog, defineCatalog, defineConfig, defineStream, id, money, nullable, tenantId, text, timestamp } from '@company-manager/lakehouse/config';

const orders = defineStream({ ...defaultCatalog.streams.orders, schema: defaultCatalog.streams.orders.schema.extend({ channel: nullable(text(32)) }), schemaVersion: 2 });
const refunds = defineStream({
  name: 'refunds',
  schema: z.strictObject({ refund_id: id(), tenant_id: tenantId(), amount: money(), reason: nullable(text(256)), refunded_at: timestamp() }),
  lake: { partition: ['tenant_id', 'year'] },
});
export default defineConfig({ catalog: defineCatalog([orders, refunds]) });
`;

let db: TestDb;
let dir: string;
let server: ServeProcess;
let relay: CliProcess | undefined;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  dir = makeProject('lakehouse-reconcile-catalog-');
  writeFileSync(join(dir, 'lakehouse.config.ts'), CONFIG);
  expect((await inProject(['migrate'])).code).toBe(0);
  server = await serve(join(dir, 'warehouse'), ['--roll-interval-ms', '50', '--no-dashboard'], env());
});
afterEach(async () => {
  await relay?.kill('SIGKILL');
  relay = undefined;
});
afterAll(async () => {
  await killAll();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  return {
    ...db.env,
    LAKEHOUSE_CONFIG: join(dir, 'lakehouse.config.ts'),
    LAKEHOUSE_LOG_LEVEL: 'info',
    ...(server ? { LAKEHOUSE_SINK_URL: `${server.url}/ingest/{stream}` } : {}),
  };
}
const inProject = (args: string[], input?: string) => runCli(args, { cwd: dir, env: env(), input });
const ndjson = (records: object[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
const refund = (id: string, amount: number, day: string) => ({
  refund_id: id,
  tenant_id: 'shop',
  amount,
  reason: null,
  refunded_at: `${day}T10:00:00Z`,
});

async function emit(stream: string, records: object[]): Promise<void> {
  const r = await inProject(['emit', stream, '--no-wake'], ndjson(records));
  expect(r.code, r.stderr).toBe(0);
}

/** Relays until idle, then waits until the lake holds `events` distinct events in both tables. */
async function deliver(events: number): Promise<void> {
  const r = await inProject(['relay', '--until-idle']);
  expect(r.code, r.stderr).toBe(0);
  const lake = httpSqlExecutor(server.url);
  const sql =
    'SELECT (SELECT COUNT(DISTINCT event_id) FROM lakehouse.orders) + (SELECT COUNT(DISTINCT event_id) FROM lakehouse.refunds) AS n';
  await waitFor(async () => Number((await lake(sql, {})).rows[0]?.n) === events, { timeoutMs: 30_000 });
}

interface ReconcileJson {
  ok: boolean;
  groups: number;
  problems: unknown[];
  tables: { table: string; delivered: number; filtered: number; lakeEvents: number; lakeRows: number }[];
}

async function reconcileJson(): Promise<ReconcileJson> {
  const r = await inProject(['reconcile', '--url', server.url, '--json', '--settle', '0s']);
  expect(r.code, r.stdout + r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ReconcileJson;
}

const ageAll = () => db.pool.query(`UPDATE "${db.schema}".events SET created_at = now() - interval '2 days'`);
const stored = async () =>
  (await db.pool.query(`SELECT count(*)::int AS n FROM "${db.schema}".events`)).rows[0].n as number;
const rolledRefunds = async () =>
  (
    await db.pool.query(
      `SELECT day::text AS day, delivered::int AS delivered, sums FROM "${db.schema}".delivered_rollup WHERE stream = 'refunds' ORDER BY day`,
    )
  ).rows;

describe('reconcile and prune with a catalog of the project', () => {
  it('reconcile checks refunds; after lakehouse prune, the same groups and counts, exit 0', async () => {
    await emit('orders', [
      { ...order('o-1', 'shop'), channel: 'web' },
      order('o-2', 'shop'),
      order('o-free', 'shop', { total_amount: 0 }),
    ]);
    await emit('refunds', [
      refund('r-1', 4.25, '2026-02-03'),
      refund('r-2', 10.1, '2026-02-03'),
      refund('r-3', 0.0001, '2026-02-04'),
    ]);
    await deliver(5);
    const before = await reconcileJson();
    expect(before.problems).toEqual([]);
    expect(before.groups).toBe(3); // orders: one day; refunds: two days
    expect(before.tables).toEqual([
      { table: 'lakehouse.orders', delivered: 3, filtered: 1, lakeEvents: 2, lakeRows: 2 },
      { table: 'lakehouse.refunds', delivered: 3, filtered: 0, lakeEvents: 3, lakeRows: 3 },
    ]);

    await ageAll();
    const pruned = await inProject(['prune', '--older-than', '1d', '--json']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(JSON.parse(pruned.stdout)).toEqual({ deleted: 6 });
    expect(await stored()).toBe(0);
    expect(await rolledRefunds()).toEqual([
      { day: '2026-02-03', delivered: 2, sums: { amount: '14.35' } },
      { day: '2026-02-04', delivered: 1, sums: { amount: '0.0001' } },
    ]);
    expect(await reconcileJson()).toEqual(before);
  });

  it("the relay's --prune-older-than rolls up refunds too: reconcile still exits 0 with the new counts", async () => {
    await emit('refunds', [refund('r-4', 2.5, '2026-02-04')]);
    await deliver(6);
    await ageAll();
    relay = startCli(['relay', '--prune-older-than', '1d'], env());
    await waitFor(async () => (await stored()) === 0, { timeoutMs: 20_000, message: relay.stderr() });
    expect(await relay.kill('SIGTERM')).toBe(0);
    expect((await rolledRefunds()).at(-1)).toEqual({
      day: '2026-02-04',
      delivered: 2,
      sums: { amount: '2.5001' },
    });
    const after = await reconcileJson();
    expect(after.problems).toEqual([]);
    expect(after.tables.find((t) => t.table === 'lakehouse.refunds')).toEqual({
      table: 'lakehouse.refunds',
      delivered: 4,
      filtered: 0,
      lakeEvents: 4,
      lakeRows: 4,
    });
  });
});
