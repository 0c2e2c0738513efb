import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ordersRecord } from '../../src/domain/catalog.js';
import { defaultCatalog } from '../../src/domain/defaultCatalog.js';
import { defineCatalog } from '../../src/domain/defineCatalog.js';
import { defineStream } from '../../src/domain/defineStream.js';
import { createEvent, toLakeRecord } from '../../src/domain/envelope.js';
import { nullable, text } from '../../src/domain/fields.js';
import { pipelinesOf } from '../../src/pipelines/catalogPipelines.js';
import { createCloudflareApi } from '../../src/pipelines/cloudflare/api.js';
import { createCloudflareSink } from '../../src/pipelines/cloudflareSink.js';
import { createHttpSink } from '../../src/pipelines/httpSink.js';
import { loadStreamRoutes } from '../../src/pipelines/streamRoutes.js';
import { streamSchema } from '../../src/pipelines/streamSchema.js';
import type { Sink } from '../../src/relay/sink.js';
import { order } from '../support/fixtures.js';
import { type StandIn, startCloudflareStandIn } from './support/cloudflareStandIn.js';

let cf: StandIn;
let sink: Sink | undefined;
beforeEach(async () => {
  cf = await startCloudflareStandIn();
});
afterEach(async () => {
  await sink?.close?.();
  await cf.close();
});

const current = () => streamSchema('orders').fields as unknown as Record<string, unknown>[];
/** Version 1 as deployed before the change: it also had a required `legacy_code`. */
const v1Fields = () => [...current(), { name: 'legacy_code', type: 'string', required: true }];

const api = () => createCloudflareApi({ token: cf.token, accountId: cf.accountId, baseUrl: cf.apiBase });
const newRecord = (id: string) => toLakeRecord(createEvent('orders', order(id)));
const oldRecord = (id: string) => ({ ...newRecord(id), legacy_code: 'L1' });
const idsAt = (name: string) => {
  const id = cf.streams.find((s) => s.name === name)!.id;
  return ((cf.ingested.get(id) ?? []) as { order_id: string }[]).map((r) => r.order_id);
};

describe('routing records to deployed stream versions', () => {
  it('after orders_v2 is deployed, new records go to orders_v2 and records matching only version 1 still reach orders', async () => {
    cf.seed('stream', { name: 'orders', schema: { fields: v1Fields() } });
    cf.seed('stream', { name: 'orders_v2', schema: { fields: current() } });
    const routes = await loadStreamRoutes(api());
    expect(routes.orders!.map((r) => [r.name, r.version])).toEqual([
      ['orders_v2', 2],
      ['orders', 1],
    ]);
    sink = createHttpSink({ routes, token: cf.token });
    const batch = [oldRecord('o-old-1'), newRecord('o-new-1'), newRecord('o-new-2'), oldRecord('o-old-2')];
    for (const r of batch) expect(sink.check?.('orders', r)).toBeUndefined();
    const out = await sink.send({ stream: 'orders', records: batch.map((r) => JSON.stringify(r)) });
    expect(out).toEqual({ kind: 'ok', committed: 4 });
    expect(idsAt('orders_v2')).toEqual(['o-new-1', 'o-new-2']);
    expect(idsAt('orders')).toEqual(['o-old-1', 'o-old-2']);
  });

  it('createCloudflareSink reads the routes with the Cloudflare credentials of the environment', async () => {
    cf.seed('stream', { name: 'orders', schema: { fields: v1Fields() } });
    cf.seed('stream', { name: 'orders_v2', schema: { fields: current() } });
    sink = await createCloudflareSink(
      { token: cf.token },
      {
        CLOUDFLARE_API_TOKEN: cf.token,
        CLOUDFLARE_ACCOUNT_ID: cf.accountId,
        CLOUDFLARE_API_BASE_URL: cf.apiBase,
      },
    );
    const out = await sink.send({ stream: 'orders', records: [JSON.stringify(newRecord('o-1'))] });
    expect(out).toEqual({ kind: 'ok', committed: 1 });
    expect(idsAt('orders_v2')).toEqual(['o-1']);
  });

  it('the check refuses a record that matches no deployed version, naming the newest version and the field', async () => {
    cf.seed('stream', { name: 'orders', schema: { fields: v1Fields() } });
    sink = createHttpSink({ routes: await loadStreamRoutes(api()), token: cf.token });
    expect(sink.check?.('orders', newRecord('o-1'))).toBe(
      'record matches no deployed version of stream orders; newest: orders (v1): field "legacy_code" is required',
    );
    expect(sink.check?.('api_calls', { event_id: 'x' })).toContain('stream api_calls is not deployed');
  });

  it('sends a record of a catalog whose orders gained an optional field to the version deployed before it, without the field when null', async () => {
    const catalog = defineCatalog([
      defineStream({
        ...defaultCatalog.streams.orders,
        schema: ordersRecord.extend({ channel: nullable(text(32)) }),
      }),
    ]);
    cf.seed('stream', { name: 'orders', schema: { fields: current() } });
    const routes = await loadStreamRoutes(api(), pipelinesOf(catalog));
    expect(routes.orders!.map((r) => [r.name, r.drop])).toEqual([['orders', ['channel']]]);
    sink = createHttpSink({ routes, token: cf.token });
    const withNull = toLakeRecord(createEvent('orders', order('o-null'), {}, catalog));
    const withValue = toLakeRecord(
      createEvent('orders', { ...order('o-web'), channel: 'web' } as never, {}, catalog),
    );
    expect(withNull).toMatchObject({ channel: null });
    expect(sink.check?.('orders', withNull)).toBeUndefined();
    expect(sink.check?.('orders', withValue)).toBe(
      'record matches no deployed version of stream orders; newest: orders (v1): field "channel" is not in this version\'s schema',
    );
    const out = await sink.send({ stream: 'orders', records: [JSON.stringify(withNull)] });
    expect(out).toEqual({ kind: 'ok', committed: 1 });
    const id = cf.streams.find((x) => x.name === 'orders')!.id;
    const stored = (cf.ingested.get(id) ?? []) as Record<string, unknown>[];
    expect(stored.map((r) => [r.order_id, 'channel' in r])).toEqual([['o-null', false]]);
  });
});
