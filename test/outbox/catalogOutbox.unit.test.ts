import { describe, expect, it } from 'vitest';
import { defineCatalog } from '../../src/domain/defineCatalog.js';
import { defineStream } from '../../src/domain/defineStream.js';
import { isValidationError } from '../../src/errors.js';
import { createOutbox } from '../../src/outbox/outbox.js';
import { order } from '../support/fixtures.js';
import { ordersWithChannel, refundsStream } from '../support/streams.js';

const catalog = defineCatalog([ordersWithChannel, defineStream({ ...refundsStream, schemaVersion: 3 })]);
const refund = { refund_id: 'r-1', tenant_id: 't1', amount: 4.25, refunded_at: '2026-02-03T10:00:00Z' };

describe('createOutbox({ catalog })', () => {
  it('validates events against the catalog and stores each with its stream schema version', () => {
    const outbox = createOutbox({ schema: 'lakehouse', catalog });
    const [r, o] = outbox.prepare([
      { stream: 'refunds', data: refund },
      { stream: 'orders', data: { ...order('o-1'), channel: 'web' } },
    ]);
    expect(r).toMatchObject({ stream: 'refunds', schema_version: 3, event_type: 'refunds.recorded' });
    expect(r!.data).toMatchObject({ reason: null });
    expect(o).toMatchObject({ stream: 'orders', schema_version: 2, data: { channel: 'web' } });
  });

  it("refuses a stream the catalog lacks, naming the catalog's streams, and a field a stream lacks", () => {
    const outbox = createOutbox({ catalog });
    try {
      outbox.prepare([{ stream: 'api_calls', data: {} } as never]);
      expect.unreachable();
    } catch (e) {
      expect(isValidationError(e) && e.issues[0]?.problem).toBe(
        'unknown stream "api_calls"; known streams: orders, refunds',
      );
    }
    expect(() =>
      outbox.prepare([{ stream: 'refunds', data: { ...refund, channel: 'web' } as never }]),
    ).toThrow(
      /field "channel": is not a field of refunds \(fields: refund_id, tenant_id, amount, reason, refunded_at\)/,
    );
  });

  it('checks partitionKeys against the catalog', () => {
    expect(() => createOutbox({ catalog, partitionKeys: { refunds: 'refund_id' } })).not.toThrow();
    expect(() => createOutbox({ catalog, partitionKeys: { refunds: 'order_id' } })).toThrow(
      'partitionKeys.refunds: "order_id" is not a field of refunds',
    );
    expect(() => createOutbox({ catalog, partitionKeys: { api_calls: 'request_id' } })).toThrow(
      'partitionKeys: unknown stream "api_calls"',
    );
  });

  it("types emit by the catalog's zod schemas", () => {
    const outbox = createOutbox({ catalog });
    const ok = () => outbox.prepare([{ stream: 'refunds', data: refund }]);
    // @ts-expect-error amount is money (a number), not a string
    const wrongType = () => outbox.prepare([{ stream: 'refunds', data: { ...refund, amount: '4.25' } }]);
    // @ts-expect-error refunds has no field channel
    const unknownField = () => outbox.prepare([{ stream: 'refunds', data: { ...refund, channel: 'web' } }]);
    expect(ok()).toHaveLength(1);
    expect(wrongType).toThrow(/field "amount"/);
    expect(unknownField).toThrow(/field "channel"/);
  });
});
