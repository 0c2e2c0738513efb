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

  it('without Cloudflare credentials it is a usage error naming the variable', async () => {
    const env = { ...db.env, CLOUDFLARE_API_TOKEN: '', CLOUDFLARE_ACCOUNT_ID: '' };
    const r = await runCli(['relay', '--until-idle', '--cloudflare'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CLOUDFLARE_');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
