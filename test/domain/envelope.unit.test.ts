import { describe, expect, it } from 'vitest';
import { STREAM_NAMES, streams } from '../../src/domain/catalog.js';
import { createEvent, MAX_RECORD_BYTES, toLakeRecord } from '../../src/domain/envelope.js';
import { order, rejection } from '../support/fixtures.js';

const valid = {
  orders: order('o-1'),
  product_changes: {
    product_id: 'p-1',
    tenant_id: 't1',
    change_type: 'price',
    old_price: 10,
    new_price: 12.5,
    changed_at: '2026-02-01T10:00:00+01:00',
  },
  user_activity: {
    tenant_id: 't1',
    session_id: 's-1',
    activity_type: 'search',
    search_query: 'shoes',
    occurred_at: new Date('2026-02-01T10:00:00Z'),
  },
  agent_decisions: {
    decision_id: 'd-1',
    tenant_id: 't1',
    agent_type: 'pricing',
    action: 'lower_price',
    outcome: 'executed',
    confidence: 0.8,
    decided_at: '2026-02-01T10:00:00Z',
  },
  sync_events: {
    tenant_id: 't1',
    source: 'prestashop',
    entity: 'product',
    entity_id: '42',
    operation: 'update',
    direction: 'inbound',
    status: 'failed',
    error: 'timeout',
    synced_at: '2026-02-01T10:00:00Z',
  },
  api_calls: {
    request_id: 'r-1',
    tenant_id: 't1',
    route: '/api/orders/:id',
    method: 'GET',
    status_code: 200,
    duration_ms: 12.5,
    called_at: '2026-02-01T10:00:00Z',
  },
} as const;

describe('stream catalog', () => {
  it('has the six lake tables of the plan, each partitioned by tenant_id by default', () => {
    expect(STREAM_NAMES).toEqual([
      'orders',
      'product_changes',
      'user_activity',
      'agent_decisions',
      'sync_events',
      'api_calls',
    ]);
    for (const s of STREAM_NAMES) expect(streams[s].partitionKey).toBe('tenant_id');
  });

  it.each(STREAM_NAMES)(
    'accepts a valid %s record and normalizes it (timestamps to UTC ISO, optional fields to null)',
    (stream) => {
      const e = createEvent(stream, valid[stream] as never);
      expect(e.stream).toBe(stream);
      expect(e.tenant_id).toBe('t1');
      expect(e.partition_key).toBe('t1');
      expect(e.occurred_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      for (const [k, v] of Object.entries(e.data)) expect(v, k).not.toBeUndefined();
    },
  );
});

describe('event envelope', () => {
  it('gives a time-ordered UUIDv7 event_id by default and keeps a given one', () => {
    const a = createEvent('orders', order('a'));
    const b = createEvent('orders', order('b'));
    expect(a.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.event_id < b.event_id).toBe(true);
    const id = '0195134f-8258-7e85-a000-000000000001';
    expect(createEvent('orders', order('c'), { eventId: id }).event_id).toBe(id);
  });

  it('sends event_id and event_type with the record to the lake', () => {
    const e = createEvent('orders', order('x'), { eventType: 'order.placed' });
    expect(toLakeRecord(e)).toMatchObject({
      event_id: e.event_id,
      event_type: 'order.placed',
      order_id: 'x',
    });
  });

  it('converts a time with an offset to UTC', () => {
    const e = createEvent('product_changes', valid.product_changes as never);
    expect(e.data).toMatchObject({ changed_at: '2026-02-01T09:00:00.000Z' });
  });
});

describe('validation names the stream, the field and the problem', () => {
  it('rejects an unknown stream, listing the known ones', () => {
    const e = rejection(() => createEvent('invoices' as never, {} as never));
    expect(e.code).toBe('UNKNOWN_STREAM');
    expect(e.message).toContain('orders');
  });

  it('rejects a missing tenant_id', () => {
    const { tenant_id: _, ...rest } = order('x');
    const e = rejection(() => createEvent('orders', rest as never));
    expect(e.issues[0]).toMatchObject({ stream: 'orders', field: 'tenant_id', problem: 'is required' });
  });

  it.each([
    ['Infinity', Number.POSITIVE_INFINITY],
    ['NaN', Number.NaN],
    ['a BigInt', 10n],
    ['a string', '10.5'],
    ['more than 4 decimals', 0.1 + 0.2],
    ['a negative amount', -1],
  ])('rejects %s as a money amount', (_, value) => {
    const e = rejection(() => createEvent('orders', { ...order('x'), total_amount: value } as never));
    expect(e.issues[0]?.field).toBe('total_amount');
  });

  it('rejects a field the lake table has no column for', () => {
    const e = rejection(() => createEvent('orders', { ...order('x'), coupon: 'X' } as never));
    expect(e.issues[0]).toMatchObject({ field: 'coupon' });
    expect(e.issues[0]?.problem).toContain('is not a field of orders');
  });

  it('rejects a timestamp without a time zone', () => {
    const e = rejection(() =>
      createEvent('orders', { ...order('x'), created_at: '2026-02-01 10:00' } as never),
    );
    expect(e.issues[0]?.field).toBe('created_at');
  });

  it('rejects an enum value, listing the allowed ones', () => {
    const e = rejection(() => createEvent('orders', { ...order('x'), status: 'lost' } as never));
    expect(e.issues[0]).toMatchObject({ field: 'status' });
    expect(e.issues[0]?.problem).toContain('placed');
  });

  it('rejects a non-UUID event_id and a malformed event type', () => {
    expect(rejection(() => createEvent('orders', order('x'), { eventId: 'abc' })).issues[0]?.field).toBe(
      'event_id',
    );
    expect(
      rejection(() => createEvent('orders', order('x'), { eventType: 'Order Placed' })).issues[0]?.field,
    ).toBe('event_type');
  });

  it(`keeps the largest record its field bounds allow (worst-case JSON escaping) under the ${MAX_RECORD_BYTES}-byte limit`, () => {
    const worst = (n: number) => '\u0001'.repeat(n); // each escapes to 6 bytes of JSON
    const e = createEvent('agent_decisions', {
      ...valid.agent_decisions,
      decision_id: `d${'x'.repeat(127)}`,
      action: worst(256),
      input_summary: worst(4096),
      model: worst(128),
    } as never);
    const bytes = Buffer.byteLength(JSON.stringify(toLakeRecord(e)));
    expect(bytes).toBeGreaterThan(6 * 4096);
    expect(bytes).toBeLessThan(MAX_RECORD_BYTES);
  });
});
