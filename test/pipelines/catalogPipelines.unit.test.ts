import { describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/domain/defaultCatalog.js';
import { defineCatalog } from '../../src/domain/defineCatalog.js';
import { createEvent, toLakeRecord } from '../../src/domain/envelope.js';
import { defaultTransform, pipelinesOf } from '../../src/pipelines/catalogPipelines.js';
import { loadPipelines } from '../../src/pipelines/definePipeline.js';
import { pipelines } from '../../src/pipelines/definitions.js';
import { streamSchema, validateRecord } from '../../src/pipelines/streamSchema.js';
import { order } from '../support/fixtures.js';
import { ordersWithChannel, refundsStream } from '../support/streams.js';

const custom = defineCatalog([
  ...defaultCatalog.list.filter((s) => s.name !== 'orders'),
  ordersWithChannel,
  refundsStream,
]);

describe('pipelinesOf(catalog)', () => {
  it('gives the hand-written definitions for the default catalog, and a generated transform equals each of them', () => {
    const defs = pipelinesOf(defaultCatalog);
    const builtIn = pipelines as Record<string, (typeof defs)[number]>;
    expect(defs).toEqual(defaultCatalog.names.map((n) => builtIn[n]));
    for (const s of defaultCatalog.list) {
      const where = /\nWHERE ([\s\S]+)$/.exec(builtIn[s.name]!.transform)?.[1];
      expect(defaultTransform(s, where)).toBe(builtIn[s.name]!.transform);
    }
  });

  it('adds a new field to a built-in stream, keeping its pipeline name and the plan filter', async () => {
    const defs = await loadPipelines(pipelinesOf(custom));
    const orders = defs.find((d) => d.stream === 'orders')!;
    expect(orders.name).toBe('orders_events');
    expect(orders.transform).toContain('event.channel AS channel');
    expect(orders.transform).toMatch(/WHERE event\.total_amount > 0$/);
    expect(orders.schema).toBe(ordersWithChannel.schema);
  });

  it('defines a pipeline of a stream of your own: every field plus its time partitions', async () => {
    const defs = await loadPipelines(pipelinesOf(custom));
    const r = defs.find((d) => d.stream === 'refunds')!;
    expect(r).toMatchObject({
      name: 'refunds_events',
      source: 'http',
      destination: { namespace: 'lakehouse', table: 'refunds', partition: ['tenant_id', 'year'] },
    });
    expect(r.transform).toContain('CAST(EXTRACT(YEAR FROM event.refunded_at) AS INT) AS year');
    expect(r.transform).not.toContain('WHERE');
  });
});

describe('stream schemas and record checks of a catalog', () => {
  it('checks records against the catalog given: channel is known to it, not to the default catalog', () => {
    expect(streamSchema('orders', custom).fields.map((f) => f.name)).toContain('channel');
    const record = { ...toLakeRecord(createEvent('orders', order('o1'))), channel: 'web' };
    expect(validateRecord('orders', record, custom)).toBeUndefined();
    expect(validateRecord('orders', record)).toMatch(/field "channel" is not in the stream schema/);
    expect(validateRecord('refunds', record)).toBe('unknown stream "refunds"');
  });

  it('creates events of a catalog stream with its schemaVersion; an unknown stream names the catalog streams', () => {
    const e = createEvent('orders', { ...order('o1'), channel: 'web' } as never, {}, custom);
    expect(e.schema_version).toBe(2);
    expect(e.data).toMatchObject({ channel: 'web' });
    expect(createEvent('orders', order('o1'), {}, custom).data).toMatchObject({ channel: null });
    expect(() => createEvent('refunds' as never, {} as never)).toThrow(
      /unknown stream "refunds"; known streams: orders,/,
    );
  });
});
