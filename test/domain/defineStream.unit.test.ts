import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { streams } from '../../src/domain/catalog.js';
import { defaultCatalog } from '../../src/domain/defaultCatalog.js';
import { type CatalogEvent, type CatalogRecord, defineCatalog } from '../../src/domain/defineCatalog.js';
import { defineStream } from '../../src/domain/defineStream.js';
import { id, money, nullable, tenantId, text, timestamp } from '../../src/domain/fields.js';
import { lakeColumnOf } from '../../src/domain/lakeColumn.js';
import { LakehouseError } from '../../src/errors.js';

const refundsSchema = z.strictObject({
  refund_id: id(),
  tenant_id: tenantId(),
  amount: money(),
  reason: nullable(text(256)),
  refunded_at: timestamp(),
});
const refunds = () =>
  defineStream({ name: 'refunds', schema: refundsSchema, lake: { partition: ['tenant_id', 'year'] } });

/** The CONFIG error message `fn` throws. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LakehouseError);
    expect((e as LakehouseError).code).toBe('CONFIG');
    return (e as Error).message;
  }
  throw new Error('expected a CONFIG error, nothing was thrown');
}

describe('defineStream', () => {
  it('fills the defaults: partition key tenant_id, first timestamp as time field, version 1', () => {
    const s = refunds();
    expect(s).toMatchObject({
      name: 'refunds',
      partitionKey: 'tenant_id',
      timeField: 'refunded_at',
      schemaVersion: 1,
      defaultEventType: 'refunds.recorded',
      lake: { table: 'refunds', partition: ['tenant_id', 'year'] },
    });
  });

  it('maps each field to the lake column type and nullability', () => {
    expect(refunds().columns).toEqual({
      refund_id: { type: 'string', nullable: false },
      tenant_id: { type: 'string', nullable: false },
      amount: { type: 'decimal(18, 4)', nullable: false },
      reason: { type: 'string', nullable: true },
      refunded_at: { type: 'timestamptz', nullable: false },
    });
  });

  it('refuses a stream name Cloudflare does not accept', () => {
    expect(
      configError(() =>
        defineStream({ name: 'refund-events', schema: refundsSchema, lake: { partition: [] } }),
      ),
    ).toMatch(/stream name "refund-events" is not valid for Cloudflare/);
  });

  it('refuses a partition key that is not a field, naming stream and field', () => {
    const msg = configError(() =>
      defineStream({
        name: 'refunds',
        schema: refundsSchema,
        partitionKey: 'order_id',
        lake: { partition: [] },
      }),
    );
    expect(msg).toMatch(/stream refunds: partition key "order_id" is not a field/);
  });

  it('refuses a lake partition column that is neither a field nor a time partition', () => {
    const msg = configError(() =>
      defineStream({ name: 'refunds', schema: refundsSchema, lake: { partition: ['tenant_id', 'region'] } }),
    );
    expect(msg).toMatch(/stream refunds: lake partition "region" is not a field/);
  });

  it('refuses a field type the lake cannot store, naming stream and field', () => {
    const schema = z.strictObject({ ...refundsSchema.shape, lines: z.array(z.string()) });
    const msg = configError(() => defineStream({ name: 'refunds', schema, lake: { partition: [] } }));
    expect(msg).toMatch(/stream refunds: field "lines" has zod type "array"/);
  });

  it('refuses a schema that is not strict', () => {
    const schema = z.object(refundsSchema.shape);
    expect(configError(() => defineStream({ name: 'refunds', schema, lake: { partition: [] } }))).toMatch(
      /must be strict/,
    );
  });

  it('refuses a stream without tenant_id and a field named like an envelope column', () => {
    const noTenant = z.strictObject({ refund_id: id(), refunded_at: timestamp() });
    expect(
      configError(() => defineStream({ name: 'refunds', schema: noTenant, lake: { partition: [] } })),
    ).toMatch(/field "tenant_id" is not a field/);
    const reserved = z.strictObject({ ...refundsSchema.shape, event_type: text() });
    expect(
      configError(() => defineStream({ name: 'refunds', schema: reserved, lake: { partition: [] } })),
    ).toMatch(/field "event_type" is reserved/);
  });

  it('refuses a time partition when the stream has no timestamp field', () => {
    const schema = z.strictObject({ refund_id: id(), tenant_id: tenantId() });
    expect(
      configError(() => defineStream({ name: 'refunds', schema, lake: { partition: ['year'] } })),
    ).toMatch(/no timestamp\(\) field/);
  });
});

describe('lakeColumnOf', () => {
  it('understands plain zod strings, enums, booleans and numbers', () => {
    expect(lakeColumnOf(z.string())).toEqual({ type: 'string', nullable: false });
    expect(lakeColumnOf(z.enum(['web', 'pos']).optional())).toEqual({
      type: 'string',
      nullable: true,
      values: ['web', 'pos'],
    });
    expect(lakeColumnOf(z.boolean().nullable())).toEqual({ type: 'boolean', nullable: true });
    expect(lakeColumnOf(z.number().int())).toEqual({ type: 'long', nullable: false });
    expect(lakeColumnOf(z.number())).toEqual({ type: 'double', nullable: false });
  });

  it('refuses objects and dates with the reason', () => {
    expect(lakeColumnOf(z.object({ a: z.string() }))).toMatchObject({
      unsupported: expect.stringMatching(/"object"/),
    });
    expect(lakeColumnOf(z.date())).toMatchObject({ unsupported: expect.stringMatching(/"date"/) });
  });
});

describe('defineCatalog', () => {
  it('refuses two streams with the same name', () => {
    expect(configError(() => defineCatalog([refunds(), refunds()]))).toMatch(
      /stream "refunds" is defined twice/,
    );
  });

  it('refuses two streams writing the same lake table', () => {
    const other = defineStream({
      name: 'refunds_v2',
      schema: refundsSchema,
      lake: { table: 'refunds', partition: [] },
    });
    expect(configError(() => defineCatalog([refunds(), other]))).toMatch(/both write lake table "refunds"/);
  });

  it('infers stream names and record types', () => {
    const catalog = defineCatalog([refunds()]);
    expectTypeOf(catalog.names).toEqualTypeOf<readonly 'refunds'[]>();
    expectTypeOf<CatalogRecord<typeof catalog, 'refunds'>['amount']>().toEqualTypeOf<number>();
    expectTypeOf<CatalogEvent<typeof catalog>>().toEqualTypeOf<{
      stream: 'refunds';
      data: z.input<typeof refundsSchema>;
    }>();
    expect(catalog.has('refunds')).toBe(true);
    expect(catalog.get('orders')).toBeUndefined();
  });
});

describe('defaultCatalog', () => {
  it('has the six streams of catalog.ts with their schemas, keys, time fields and event types', () => {
    expect(defaultCatalog.names).toEqual(Object.keys(streams));
    for (const name of defaultCatalog.names) {
      const s = defaultCatalog.streams[name];
      const old = streams[name];
      expect(s.schema).toBe(old.schema);
      expect([s.partitionKey, s.timeField, s.defaultEventType, s.schemaVersion]).toEqual([
        old.partitionKey,
        old.timeField,
        old.defaultEventType,
        old.schemaVersion,
      ]);
    }
  });

  it('types an orders event by its stream', () => {
    type E = Extract<CatalogEvent<typeof defaultCatalog>, { stream: 'orders' }>;
    expectTypeOf<E['data']['total_amount']>().toEqualTypeOf<number>();
  });
});
