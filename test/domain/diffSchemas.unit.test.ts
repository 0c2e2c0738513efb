import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ordersRecord } from '../../src/domain/catalog.js';
import { defaultCatalog } from '../../src/domain/defaultCatalog.js';
import { defineCatalog } from '../../src/domain/defineCatalog.js';
import { defineStream } from '../../src/domain/defineStream.js';
import { diffSchemas } from '../../src/domain/diffSchemas.js';
import { id, integer, money, nullable, tenantId, text, timestamp } from '../../src/domain/fields.js';
import { parseSnapshot, snapshotOf } from '../../src/domain/schemaSnapshot.js';
import { LakehouseError } from '../../src/errors.js';

const base = snapshotOf(defaultCatalog);

/** The default catalog with `orders` replaced by a stream of this schema and lake options. */
function withOrders(schema: z.ZodObject, partition = ['tenant_id', 'year', 'month']) {
  const orders = defineStream({ name: 'orders', schema, lake: { partition } });
  return snapshotOf(defineCatalog([orders, ...defaultCatalog.list.filter((s) => s.name !== 'orders')]));
}

const kinds = (before = base, after = base) =>
  diffSchemas(before, after).map((c) => [c.severity, c.kind, c.stream, c.field ?? null]);

describe('diffSchemas', () => {
  it('finds no change between a catalog and its own snapshot', () => {
    expect(diffSchemas(base, snapshotOf(defaultCatalog))).toEqual([]);
  });

  it('classifies a new optional field as additive', () => {
    const after = withOrders(ordersRecord.extend({ channel: nullable(text(32)) }));
    expect(kinds(base, after)).toEqual([['additive', 'field_added', 'orders', 'channel']]);
  });

  it('classifies a new stream as additive', () => {
    const refunds = defineStream({
      name: 'refunds',
      schema: z.strictObject({
        refund_id: id(),
        tenant_id: tenantId(),
        amount: money(),
        refunded_at: timestamp(),
      }),
      lake: { partition: ['tenant_id'] },
    });
    const after = snapshotOf(defineCatalog([...defaultCatalog.list, refunds]));
    expect(kinds(base, after)).toEqual([['additive', 'stream_added', 'refunds', null]]);
  });

  it('classifies a new required field as breaking, with the nullable alternative', () => {
    const [c] = diffSchemas(base, withOrders(ordersRecord.extend({ channel: text(32) })));
    expect(c).toMatchObject({ severity: 'breaking', kind: 'field_added', field: 'channel' });
    expect(c?.alternative).toMatch(/nullable\(\)/);
  });

  it('classifies a removed field as breaking and suggests keeping it nullable', () => {
    const after = withOrders(ordersRecord.omit({ payment_method: true }));
    const changes = diffSchemas(base, after);
    expect(changes.map((c) => [c.severity, c.kind, c.field])).toEqual([
      ['breaking', 'field_removed', 'payment_method'],
    ]);
    expect(changes[0]?.alternative).toMatch(/keep "payment_method" as a nullable\(\) field/);
  });

  it('reports a rename as a removal plus a new field, with the rename named', () => {
    const { payment_method, ...rest } = ordersRecord.shape;
    const after = withOrders(z.strictObject({ ...rest, pay_method: payment_method }));
    const changes = diffSchemas(base, after);
    expect(changes.map((c) => [c.severity, c.kind, c.field])).toEqual([
      ['breaking', 'field_removed', 'payment_method'],
      ['additive', 'field_added', 'pay_method'],
    ]);
    expect(changes[0]?.message).toMatch(/renamed to "pay_method"/);
  });

  it('classifies a type change as breaking, naming both types', () => {
    const after = withOrders(ordersRecord.extend({ total_amount: text(32) }));
    const changes = diffSchemas(base, after);
    expect(changes.map((c) => [c.severity, c.kind, c.field])).toEqual([
      ['breaking', 'type_changed', 'total_amount'],
    ]);
    expect(changes[0]?.message).toBe('field "total_amount" changed type decimal(18, 4) -> string');
  });

  it('classifies optional -> required as breaking and required -> optional as additive', () => {
    const after = withOrders(ordersRecord.extend({ customer_id: id(), item_count: nullable(integer(0)) }));
    expect(kinds(base, after)).toEqual([
      ['breaking', 'made_required', 'orders', 'customer_id'],
      ['breaking', 'type_changed', 'orders', 'item_count'],
      ['additive', 'made_nullable', 'orders', 'item_count'],
    ]);
  });

  it('classifies a changed partitioning as breaking', () => {
    expect(kinds(base, withOrders(ordersRecord, ['tenant_id', 'date']))).toEqual([
      ['breaking', 'partition_changed', 'orders', null],
    ]);
  });

  it('classifies removed enum values as breaking and new ones as additive', () => {
    const after = withOrders(
      ordersRecord.extend({
        status: z.enum(['placed', 'paid', 'fulfilled', 'cancelled', 'refunded', 'returned']),
      }),
    );
    expect(kinds(base, after)).toEqual([
      ['breaking', 'values_removed', 'orders', 'status'],
      ['additive', 'values_added', 'orders', 'status'],
    ]);
  });

  it('classifies a removed stream as breaking', () => {
    const after = snapshotOf(defineCatalog(defaultCatalog.list.filter((s) => s.name !== 'api_calls')));
    expect(kinds(base, after)).toEqual([['breaking', 'stream_removed', 'api_calls', null]]);
  });
});

describe('parseSnapshot', () => {
  it('reads back what snapshotOf wrote', () => {
    expect(parseSnapshot(JSON.stringify(base), 'schema.snapshot.json')).toEqual(base);
  });

  it('refuses a newer format version, naming the file', () => {
    const text = JSON.stringify({ ...base, formatVersion: 99 });
    expect(() => parseSnapshot(text, 'schema.snapshot.json')).toThrow(
      /snapshot schema.snapshot.json: format version 99 is newer/,
    );
    expect(() => parseSnapshot('{', 'x.json')).toThrow(LakehouseError);
  });
});
