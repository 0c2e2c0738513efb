import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STREAM_NAMES } from '../../src/domain/catalog.js';
import { pipelines } from '../../src/pipelines/definitions.js';
import { pipelineSql } from '../../src/pipelines/plan.js';
import { streamSchema } from '../../src/pipelines/streamSchema.js';
import { runCli } from '../support/cli.js';
import { type StandIn, standInEnv, startCloudflareStandIn } from './support/cloudflareStandIn.js';

let cf: StandIn;
beforeEach(async () => {
  cf = await startCloudflareStandIn();
  cf.maxPerPage = 4; // six of each kind: every list takes two pages
});
afterEach(() => cf.close());

const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { env: standInEnv(cf, extra) });
const posts = () => cf.server.requests.filter((r) => r.method === 'POST' && r.url.includes('/pipelines/v1/'));

/** Seeds version 1 of the orders pipeline as deployed with `schema` (default: the current one). */
function seedOrders(fields = streamSchema('orders').fields as unknown as Record<string, unknown>[]) {
  cf.seed('stream', { name: 'orders', schema: { fields } });
  cf.seed('sink', {
    name: 'orders_sink',
    type: 'r2_data_catalog',
    format: { type: 'parquet', compression: 'zstd' },
    config: {
      account_id: cf.accountId,
      bucket: 'lake-bucket',
      namespace: 'lakehouse',
      table_name: 'orders',
      rolling_policy: { interval_seconds: 300 },
    },
  });
  cf.seed('pipeline', { name: 'orders_events', sql: pipelineSql(pipelines.orders) });
}

describe('lakehouse pipelines apply against the Cloudflare API stand-in', () => {
  it('--yes on an empty account creates 6 streams, 6 sinks and 6 pipelines; a second run creates nothing and exits 0', async () => {
    const first = await cli(['pipelines', 'apply', '--yes', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect([cf.streams.length, cf.sinks.length, cf.pipelines.length]).toEqual([6, 6, 6]);
    const steps = JSON.parse(first.stdout).steps as { kind: string; status: string }[];
    expect(steps.filter((s) => s.status === 'created')).toHaveLength(18);
    // Tables do not exist before the sinks' first roll: maintenance waits.
    expect(steps.filter((s) => s.kind === 'maintenance').map((s) => s.status)).toEqual(
      Array(6).fill('pending'),
    );

    const orders = cf.streams.find((s) => s.name === 'orders')!;
    expect(orders.schema).toEqual({ fields: streamSchema('orders').fields });
    const sink = cf.sinks.find((s) => s.name === 'orders_sink')!;
    expect(sink.config).toEqual({
      account_id: cf.accountId,
      bucket: 'lake-bucket',
      namespace: 'lakehouse',
      table_name: 'orders',
      token: 'catalog-secret',
      rolling_policy: { interval_seconds: 300 },
    });
    expect(cf.pipelines.find((p) => p.name === 'orders_events')!.sql).toBe(pipelineSql(pipelines.orders));
    expect(first.stdout).not.toContain('catalog-secret');

    const before = posts().length;
    const second = await cli(['pipelines', 'apply', '--yes']);
    expect(second.code).toBe(0);
    expect(posts()).toHaveLength(before);
    expect(second.stdout.match(/^exists/gm)).toHaveLength(18);
    expect([cf.streams.length, cf.sinks.length, cf.pipelines.length]).toEqual([6, 6, 6]);
  });

  it('without --yes lists and prints what it would create, creating nothing', async () => {
    const r = await cli(['pipelines', 'apply']);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^would create/gm)).toHaveLength(18);
    expect(r.stdout).toContain('(dry run: add --yes to apply)');
    expect(posts()).toEqual([]);
  });

  it('sets compaction and snapshot expiration once the sinks have created their tables', async () => {
    await cli(['pipelines', 'apply', '--yes']);
    cf.roll();
    const plan = await cli(['pipelines', 'plan', '--json', '--compaction-target-mb', '256']);
    const maint = (
      JSON.parse(plan.stdout).changes as { kind: string; action: string; differences?: string[] }[]
    ).filter((c) => c.kind === 'maintenance');
    expect(maint.map((c) => c.action)).toEqual(Array(6).fill('update'));
    expect(maint[0]!.differences).toContain('compaction: enabled, deployed disabled');
    const r = await cli(['pipelines', 'apply', '--yes', '--compaction-target-mb', '256']);
    expect(r.code).toBe(0);
    expect(cf.tables.get('lakehouse.orders')).toEqual({
      compaction: { state: 'enabled', target_size_mb: 256 },
      snapshot_expiration: { state: 'enabled', older_than_days: 30, retain_last: 5 },
    });
    const again = await cli(['pipelines', 'plan', '--json', '--compaction-target-mb', '256']);
    expect(
      (JSON.parse(again.stdout).changes as { action: string }[]).every((c) => c.action === 'exists'),
    ).toBe(true);
  });

  it('a failed list makes both the dry run and --yes exit non-zero with the API error, creating nothing', async () => {
    cf.failLists.add('sinks');
    for (const args of [
      ['pipelines', 'apply'],
      ['pipelines', 'apply', '--yes'],
      ['pipelines', 'plan'],
    ]) {
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'GET /pipelines/v1/sinks failed (HTTP 500): [10001] internal error listing sinks',
      );
      expect(r.stdout).not.toMatch(/would create|created/);
    }
    expect(posts()).toEqual([]);
  });

  it("checks each pipeline's SQL with validate_sql first and reports Cloudflare's refusal, exit 1", async () => {
    cf.rejectSql = (sql) => (/AS DATE/.test(sql) ? 'Unsupported SQL type Date' : undefined);
    const r = await cli(['pipelines', 'apply', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^failed\s+pipeline\s+activity_events: Cloudflare API POST \/pipelines\/v1\/validate_sql failed \(HTTP 400\): \[2001\] Unsupported SQL type Date/m,
    );
    expect(cf.pipelines.map((p) => p.name)).not.toContain('activity_events');
    expect(cf.pipelines.map((p) => p.name)).toContain('orders_events');
  });

  it('a missing credential is a usage error naming the variable', async () => {
    const r = await cli(['pipelines', 'plan'], { CLOUDFLARE_API_TOKEN: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CLOUDFLARE_API_TOKEN is not set');
    const noToken = await cli(['pipelines', 'apply', '--yes'], { LAKEHOUSE_R2_CATALOG_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('LAKEHOUSE_R2_CATALOG_TOKEN is not set');
    expect(posts()).toEqual([]);
  });
});

describe('drift and versions', () => {
  const withoutField = () =>
    (streamSchema('orders').fields as unknown as Record<string, unknown>[]).filter(
      (f) => f.name !== 'payment_method',
    );

  it('after a field is added to a stream schema, plan --json reports drift for that stream and apply --yes refuses it', async () => {
    seedOrders(withoutField());
    const plan = await cli(['pipelines', 'plan', '--json']);
    expect(plan.code).toBe(0);
    const changes = JSON.parse(plan.stdout).changes as {
      kind: string;
      name: string;
      action: string;
      differences?: string[];
    }[];
    const drift = changes.filter((c) => c.action === 'drift');
    expect(drift).toEqual([
      expect.objectContaining({
        kind: 'stream',
        name: 'orders',
        differences: ['field "payment_method": added (string optional)'],
      }),
    ]);
    expect(changes.find((c) => c.name === 'orders_sink')!.action).toBe('exists');

    const r = await cli(['pipelines', 'apply', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('field "payment_method": added');
    expect(r.stderr).toContain('--new-version orders');
    expect(posts()).toEqual([]);
  });

  it('--new-version creates orders_v2 (stream, sink, table, pipeline) next to version 1 and leaves version 1 alone', async () => {
    seedOrders(withoutField());
    const r = await cli(['pipelines', 'apply', '--yes', '--new-version', 'orders', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(cf.streams.map((s) => s.name).sort()).toEqual([...STREAM_NAMES, 'orders_v2'].sort());
    expect(cf.sinks.find((s) => s.name === 'orders_v2_sink')!.config.table_name).toBe('orders_v2');
    const p2 = cf.pipelines.find((p) => p.name === 'orders_events_v2')!;
    expect(p2.sql).toMatch(/^INSERT INTO orders_v2_sink\n/);
    expect(p2.sql).toContain('FROM orders_v2 AS event');
    expect(cf.streams.find((s) => s.name === 'orders')!.schema!.fields).toHaveLength(withoutField().length);

    const plan = await cli(['pipelines', 'plan', '--json']);
    const changes = JSON.parse(plan.stdout).changes as { name: string; action: string; version: number }[];
    expect(changes.filter((c) => c.action === 'drift')).toEqual([]);
    expect(changes).toContainEqual(
      expect.objectContaining({ action: 'old version', version: 1, name: 'orders v1' }),
    );
    expect(changes).toContainEqual(
      expect.objectContaining({ name: 'orders_v2', action: 'exists', version: 2 }),
    );
  });

  it('--new-version for a stream without drift is refused, unless the catalog token is being rotated', async () => {
    seedOrders();
    const r = await cli(['pipelines', 'apply', '--yes', '--new-version', 'orders']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--new-version orders: version 1 matches the definition');
    const rotated = await cli(['pipelines', 'apply', '--yes', '--new-version', 'orders', '--rotate-token'], {
      LAKEHOUSE_R2_CATALOG_TOKEN: 'new-catalog-secret',
    });
    expect(rotated.code).toBe(0);
    expect(cf.sinks.find((k) => k.name === 'orders_v2_sink')!.config.token).toBe('new-catalog-secret');
  });
});

describe('pipelines endpoints', () => {
  it('prints the LAKEHOUSE_SINK_URL_<STREAM> export of the newest deployed version of each stream', async () => {
    await cli(['pipelines', 'apply', '--yes']);
    cf.seed('stream', { name: 'orders_v2', schema: { fields: [] } });
    const r = await cli(['pipelines', 'endpoints']);
    expect(r.code).toBe(0);
    const v2 = cf.streams.find((s) => s.name === 'orders_v2')!;
    expect(r.stdout).toContain(
      `export LAKEHOUSE_SINK_URL_ORDERS=${v2.endpoint}   # orders_v2, id ${v2.id}\n`,
    );
    expect(r.stdout.match(/^export /gm)).toHaveLength(6);
  });
});

describe('plan --offline', () => {
  it("writes the schema and SQL files and prints the requests (with each transform's filter) without reading the account", async () => {
    const out = mkdtempSync(join(tmpdir(), 'plan-'));
    const r = await runCli(['pipelines', 'plan', '--offline', '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(readdirSync(out)).toHaveLength(12);
    const plan = JSON.parse(r.stdout).pipelines as {
      filter: string | null;
      requests: { sink: { config: Record<string, unknown> } };
    }[];
    expect(plan).toHaveLength(6);
    expect(plan[0]!.requests.sink.config.token).toBe('$LAKEHOUSE_R2_CATALOG_TOKEN');
    expect(plan[0]!.requests.sink.config).not.toHaveProperty('partitioning');
    // A transform that drops records says so: zero-amount orders never reach the table.
    expect(plan.map((p) => p.filter)).toEqual(['event.total_amount > 0', null, null, null, null, null]);
    expect(JSON.parse(readFileSync(join(out, 'orders.schema.json'), 'utf8'))).toEqual(streamSchema('orders'));
  });
});

describe('help', () => {
  it.each(['pipelines', 'pipelines plan', 'pipelines apply', 'cloudflare status'])(
    '%s --help exits 0',
    async (a) => {
      const r = await runCli([...a.split(' '), '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: lakehouse ${a}`);
    },
  );
});
