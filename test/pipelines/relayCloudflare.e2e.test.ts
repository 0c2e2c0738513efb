import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { streamSchema } from '../../src/pipelines/streamSchema.js';
import { runCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { type StandIn, standInEnv, startCloudflareStandIn } from './support/cloudflareStandIn.js';

let db: TestDb;
let cf: StandIn;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
});
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  cf = await startCloudflareStandIn();
});
afterEach(async () => {
  await cf.close();
});

const current = () => streamSchema('orders').fields as unknown as Record<string, unknown>[];
const idsAt = (name: string) => {
  const id = cf.streams.find((s) => s.name === name)!.id;
  return ((cf.ingested.get(id) ?? []) as { order_id: string }[]).map((r) => r.order_id).sort();
};

describe('lakehouse relay --cloudflare', () => {
  it('delivers each record to the newest deployed stream version whose schema it matches', async () => {
    // Version 1 also required `legacy_code`; version 2 is the current schema.
    cf.seed('stream', {
      name: 'orders',
      schema: { fields: [...current(), { name: 'legacy_code', type: 'string', required: true }] },
    });
    cf.seed('stream', { name: 'orders_v2', schema: { fields: current() } });
    const env = standInEnv(cf, { ...db.env, LAKEHOUSE_SINK_TOKEN: cf.token });
    const input = `${['cf-1', 'cf-2', 'cf-3'].map((id) => JSON.stringify(order(id))).join('\n')}\n`;
    expect((await runCli(['emit', 'orders', '--no-wake'], { env, input })).code).toBe(0);
    const r = await runCli(['relay', '--until-idle', '--cloudflare'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(idsAt('orders_v2')).toEqual(['cf-1', 'cf-2', 'cf-3']);
    expect(idsAt('orders')).toEqual([]);
  });

  it('reconcile --remote reads the lake through Basin SQL: 0 when it holds what was delivered, 1 naming the missing group', async () => {
    cf.seed('stream', { name: 'orders', schema: { fields: current() } });
    // An outbox of its own: only this test's events are delivered there.
    const own = await createTestDb(import.meta.filename);
    try {
      const env = standInEnv(cf, { ...own.env, LAKEHOUSE_SINK_TOKEN: cf.token });
      const input = `${['rc-1', 'rc-2'].map((id) => JSON.stringify(order(id, 'rc-tenant'))).join('\n')}\n`;
      expect((await runCli(['emit', 'orders', '--no-wake'], { env, input })).code).toBe(0);
      expect((await runCli(['relay', '--until-idle', '--cloudflare'], { env })).code).toBe(0);
      const id = cf.streams.find((s) => s.name === 'orders')!.id;
      const delivered = (cf.ingested.get(id) ?? []) as {
        tenant_id: string;
        created_at: string;
        total_amount: number;
      }[];
      expect(delivered).toHaveLength(2);
      // A stand-in Basin SQL answering the lake's per-group query from what the stream took in.
      let lakeRows = delivered;
      const queries: string[] = [];
      cf.sql = (body) => {
        queries.push(String(body.query));
        const rows = /\blakehouse\.orders\b/.test(String(body.query))
          ? lakeRows.length === 0
            ? []
            : [
                {
                  tenant_id: 'rc-tenant',
                  day: delivered[0]!.created_at.slice(0, 10),
                  lake_rows: lakeRows.length,
                  lake_events: lakeRows.length,
                  sum_total_amount: String(lakeRows.reduce((n, r) => n + r.total_amount, 0)),
                },
              ]
          : [];
        return [200, { success: true, errors: [], result: { schema: [], rows, metrics: {} } }];
      };
      const ok = await runCli(['reconcile', '--remote', '--stream', 'orders', '--settle', '0s', '--json'], {
        env,
      });
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(queries.some((q) => q.includes('lakehouse.orders'))).toBe(true);
      lakeRows = [];
      const lost = await runCli(['reconcile', '--remote', '--stream', 'orders', '--settle', '0s', '--json'], {
        env,
      });
      expect(lost.code).toBe(1);
      expect(JSON.parse(lost.stdout).problems).toMatchObject([
        { table: 'lakehouse.orders', tenant_id: 'rc-tenant', status: 'missing', delivered: 2, lakeEvents: 0 },
      ]);
    } finally {
      await own.close();
    }
  });

  it('without Cloudflare credentials it is a usage error naming the variable', async () => {
    const env = { ...db.env, CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_ACCOUNT_ID: '' };
    const r = await runCli(['relay', '--until-idle', '--cloudflare'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CLOUDFLARE_');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
