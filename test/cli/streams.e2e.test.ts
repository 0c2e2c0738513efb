import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, type ServeProcess, serve } from '../lakehouse/processes.js';
import { runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { makeProject } from '../support/project.js';

/**
 * The "done when": a project outside the package with its own lakehouse.config.ts
 * (a stream `refunds`, then an optional field `channel` on `orders`) used by every command,
 * each run as a child process of the built CLI.
 */

/** The project's config: `orders` with `channel` (schema version 2) when `withChannel`. */
function configText(withChannel: boolean): string {
  const orders = withChannel
    ? 'defineStream({ ...defaultCatalog.streams.orders, schema: base.extend({ channel: nullable(text(32)) }), schemaVersion: 2 })'
    : 'defaultCatalog.streams.orders';
  return `import { z } from 'zod';
import { defaultCatalog, defineCatalog, defineConfig, defineStream, id, money, nullable, tenantId, text, timestamp } from '@company-manager/lakehouse/config';

const base = defaultCatalog.streams.orders.schema;
const refunds = defineStream({
  name: 'refunds',
  schema: z.strictObject({ refund_id: id(), tenant_id: tenantId(), order_id: id(), amount: money(), reason: nullable(text(256)), refunded_at: timestamp() }),
  lake: { partition: ['tenant_id', 'year'] },
});
const others = defaultCatalog.list.filter((s) => s.name !== 'orders');
export default defineConfig({ catalog: defineCatalog([${orders}, ...others, refunds]) });
`;
}

let db: TestDb;
let dir: string;
let configFile: string;
let warehouse: string;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
  dir = makeProject('lakehouse-own-streams-');
  configFile = join(dir, 'lakehouse.config.ts');
  warehouse = join(dir, 'warehouse');
});
afterEach(killAll);
afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = (extra: NodeJS.ProcessEnv = {}) => ({
  ...db.env,
  LAKEHOUSE_CONFIG: '',
  LAKEHOUSE_WAREHOUSE: warehouse,
  LAKEHOUSE_LOG_LEVEL: 'error',
  ...extra,
});
/** A command run in the project folder (it finds lakehouse.config.ts there). */
const inProject = (args: string[], input?: string) => runCli(args, { cwd: dir, env: env(), input });
const ndjson = (records: object[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
const refund = (id: string) => ({
  refund_id: id,
  tenant_id: 'shop',
  order_id: 'own-1',
  amount: 4.25,
  reason: null,
  refunded_at: '2026-02-03T10:00:00Z',
});

async function query(sql: string): Promise<Record<string, unknown>[]> {
  const r = await inProject(['query', sql, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).result.rows;
}

/** Polls the lake (through `lakehouse query`) until `sql` gives `rows`. */
async function untilLake(sql: string, rows: Record<string, unknown>[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    last = await query(sql).catch((e) => e);
    if (JSON.stringify(last) === JSON.stringify(rows)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(last).toEqual(rows);
}

/** Runs `lakehouse serve` (config given with --config), the relay until idle (LAKEHOUSE_CONFIG), then stops serve. */
async function deliver(check: () => Promise<void>): Promise<ServeProcess> {
  const server = await serve(
    warehouse,
    ['--config', configFile, '--roll-interval-ms', '50', '--no-dashboard', '--compact-interval', '0s'],
    env(),
  );
  const relay = await runCli(['relay', '--until-idle'], {
    env: env({ LAKEHOUSE_CONFIG: configFile, LAKEHOUSE_SINK_URL: `${server.url}/ingest/{stream}` }),
  });
  expect(relay.code, relay.stderr).toBe(0);
  await check();
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
  return server;
}

const versions = async () =>
  (
    await db.pool.query(
      `SELECT payload->>'order_id' AS id, schema_version AS v FROM "${db.schema}".events WHERE stream = 'orders' ORDER BY position`,
    )
  ).rows;

describe('a project with its own streams (lakehouse.config.ts)', () => {
  it('emits, relays, serves and queries a stream of its own and a field added later: older rows read it as null', async () => {
    writeFileSync(configFile, configText(false));
    const migrate = await inProject(['migrate', '--json']);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect((await inProject(['emit', 'orders', '--no-wake'], ndjson([order('own-1', 'shop')]))).code).toBe(0);
    const refunds = await inProject(['emit', 'refunds', '--no-wake', '--json'], ndjson([refund('r-1')]));
    expect(refunds.code, refunds.stderr).toBe(0);
    expect(JSON.parse(refunds.stdout)).toMatchObject({ written: 1 });
    const early = await inProject(
      ['emit', 'orders'],
      ndjson([{ ...order('own-x', 'shop'), channel: 'web' }]),
    );
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/line 1: field "channel": is not a field of orders/);

    await deliver(async () => {
      await untilLake('SELECT refund_id, amount FROM refunds', [{ refund_id: 'r-1', amount: 4.25 }]);
      await untilLake('SELECT order_id FROM orders', [{ order_id: 'own-1' }]);
    });

    // Emitted under the old schema, delivered after the field is added: it still delivers.
    expect((await inProject(['emit', 'orders', '--no-wake'], ndjson([order('own-0', 'shop')]))).code).toBe(0);
    writeFileSync(configFile, configText(true));
    const later = ndjson([{ ...order('own-2', 'shop'), channel: 'web' }, order('own-3', 'shop')]);
    expect((await inProject(['emit', 'orders', '--no-wake'], later)).code).toBe(0);
    expect(await versions()).toEqual([
      { id: 'own-1', v: 1 },
      { id: 'own-0', v: 1 },
      { id: 'own-2', v: 2 },
      { id: 'own-3', v: 2 },
    ]);

    await deliver(() =>
      untilLake('SELECT order_id, channel FROM orders ORDER BY order_id', [
        { order_id: 'own-0', channel: null },
        { order_id: 'own-1', channel: null },
        { order_id: 'own-2', channel: 'web' },
        { order_id: 'own-3', channel: null },
      ]),
    );

    const status = await inProject(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const streams = JSON.parse(status.stdout).streams as { stream: string; delivered: number }[];
    expect(streams.find((s) => s.stream === 'refunds')).toMatchObject({ delivered: 1 });
    expect(streams.find((s) => s.stream === 'orders')).toMatchObject({ delivered: 4 });
  });

  it('plans the Cloudflare pipelines of the catalog: refunds_events, and orders with channel as an optional field', async () => {
    writeFileSync(configFile, configText(true));
    const r = await inProject(['pipelines', 'plan', '--offline', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const plans = JSON.parse(r.stdout).pipelines as {
      pipeline: string;
      lakeStream: string;
      filter: string | null;
      requests: {
        stream: { schema: { fields: { name: string; required: boolean }[] } };
        pipeline: { sql: string };
      };
    }[];
    expect(plans.map((p) => p.pipeline)).toEqual([
      'orders_events',
      'products_events',
      'activity_events',
      'agents_events',
      'syncs_events',
      'api_events',
      'refunds_events',
    ]);
    const orders = plans.find((p) => p.lakeStream === 'orders')!;
    expect(orders.requests.stream.schema.fields.at(-1)).toEqual({
      name: 'channel',
      type: 'string',
      required: false,
    });
    expect(orders.requests.pipeline.sql).toContain('event.channel AS channel');
    expect(orders.filter).toBe('event.total_amount > 0');
    const refunds = plans.find((p) => p.lakeStream === 'refunds')!;
    expect(refunds.requests.stream.schema.fields.map((f) => f.name)).toEqual([
      'event_id',
      'event_type',
      'refund_id',
      'tenant_id',
      'order_id',
      'amount',
      'reason',
      'refunded_at',
    ]);
  });

  it('backfills a stream of its own from a SELECT, keyed so that a second run writes nothing', async () => {
    writeFileSync(configFile, configText(true));
    const sql =
      "SELECT 'r-b' || g AS refund_id, 'shop' AS tenant_id, 'own-1' AS order_id, 1.5 AS amount, " +
      "'2026-02-04T10:00:00Z' AS refunded_at FROM generate_series(1, 3) g";
    const args = ['backfill', 'refunds', '--sql', sql, '--key', 'refund_id', '--no-wake', '--json'];
    const first = await inProject(args);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ read: 3, written: 3, rejected: 0 });
    expect(JSON.parse((await inProject(args)).stdout)).toMatchObject({ written: 0, duplicates: 3 });
  });

  it('with no config: the default catalog, so a stream of the project is unknown (exit 2)', async () => {
    const bare = makeProject('lakehouse-no-config-');
    try {
      const r = await runCli(['emit', 'refunds'], { cwd: bare, env: env(), input: ndjson([refund('r-2')]) });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        'lakehouse emit: unknown stream "refunds"; known streams: orders, product_changes, user_activity, agent_decisions, sync_events, api_calls\n',
      );
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('refuses to run any command with a config that does not load: one line naming the file (exit 2)', async () => {
    const broken = join(dir, 'broken.config.mjs');
    writeFileSync(broken, 'export default { catalog: 42 };\n');
    for (const args of [
      ['migrate'],
      ['emit', 'orders'],
      ['status'],
      ['relay', '--until-idle'],
      ['pipelines', 'plan', '--offline'],
    ]) {
      const r = await runCli([...args, '--config', broken], { cwd: dir, env: env() });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim()).toBe(
        `lakehouse: config ${broken}: catalog: must be a catalog made with defineCatalog([...])`,
      );
    }
    const served = await runCli(['serve', '--port', '0'], {
      cwd: dir,
      env: env({ LAKEHOUSE_CONFIG: broken }),
    });
    expect(served.code).toBe(2);
    expect(served.stderr).toContain(`config ${broken}`);
  });
});
