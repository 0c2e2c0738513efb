import { describe, expect, it } from 'vitest';
import { STREAM_NAMES, type StreamName } from '../../src/domain/catalog.js';
import { createEvent, toLakeRecord } from '../../src/domain/envelope.js';
import { createHttpSink } from '../../src/pipelines/httpSink.js';
import {
  type PipelinesField,
  pipelinesRecordCheck,
  streamSchema,
  validateRecord,
} from '../../src/pipelines/streamSchema.js';
import { order } from '../support/fixtures.js';

const s = (name: string, required = true): PipelinesField => ({ name, type: 'string', required });
const money = (name: string, required = true): PipelinesField => ({
  name,
  type: 'decimal128',
  required,
  precision: 18,
  scale: 4,
});
const ts = (name: string): PipelinesField => ({ name, type: 'timestamp', required: true });
const envelope = [s('event_id'), s('event_type')];

const expected: Record<StreamName, PipelinesField[]> = {
  orders: [
    ...envelope,
    s('order_id'),
    s('tenant_id'),
    s('site_id'),
    s('customer_id', false),
    money('total_amount'),
    s('currency'),
    s('status'),
    s('payment_method', false),
    { name: 'item_count', type: 'int64', required: true },
    ts('created_at'),
  ],
  product_changes: [
    ...envelope,
    s('product_id'),
    s('tenant_id'),
    s('change_type'),
    money('old_price', false),
    money('new_price', false),
    { name: 'old_stock', type: 'int32', required: false },
    { name: 'new_stock', type: 'int32', required: false },
    ts('changed_at'),
  ],
  user_activity: [
    ...envelope,
    s('tenant_id'),
    s('site_id', false),
    s('session_id'),
    s('user_id', false),
    s('activity_type'),
    s('path', false),
    s('search_query', false),
    ts('occurred_at'),
  ],
  agent_decisions: [
    ...envelope,
    s('decision_id'),
    s('tenant_id'),
    s('agent_type'),
    s('action'),
    s('input_summary', false),
    s('outcome'),
    { name: 'confidence', type: 'float64', required: false },
    s('model', false),
    { name: 'latency_ms', type: 'int32', required: false },
    ts('decided_at'),
  ],
  sync_events: [
    ...envelope,
    s('tenant_id'),
    s('source'),
    s('entity'),
    s('entity_id'),
    s('operation'),
    s('direction'),
    s('status'),
    s('error', false),
    { name: 'duration_ms', type: 'int32', required: false },
    ts('synced_at'),
  ],
  api_calls: [
    ...envelope,
    s('request_id'),
    s('tenant_id'),
    s('route'),
    s('method'),
    { name: 'status_code', type: 'int32', required: true },
    { name: 'duration_ms', type: 'float64', required: true },
    s('api_key_id', false),
    ts('called_at'),
  ],
};

describe('stream schema generation', () => {
  it.each(STREAM_NAMES)('generates the expected fields for %s', (stream) => {
    expect(streamSchema(stream)).toEqual({ fields: expected[stream] });
  });

  it('covers every lake type of the catalog: string, decimal128, int64, int32, float64, timestamp', () => {
    const types = new Set(STREAM_NAMES.flatMap((n) => streamSchema(n).fields.map((f) => f.type)));
    expect([...types].sort()).toEqual(['decimal128', 'float64', 'int32', 'int64', 'string', 'timestamp']);
  });

  it('generates a schema every record built by the domain passes', () => {
    const rec = toLakeRecord(createEvent('orders', order('o-1', 't1', { customer_id: 'c1' })));
    expect(validateRecord('orders', rec)).toBeUndefined();
  });
});

describe('validateRecord', () => {
  const valid = () => toLakeRecord(createEvent('orders', order('o-1')));

  it('accepts a valid record, with nullable fields null or left out', () => {
    const rec = valid();
    expect(rec.customer_id).toBeNull();
    expect(validateRecord('orders', rec)).toBeUndefined();
    const { customer_id: _c, payment_method: _p, ...without } = rec;
    expect(validateRecord('orders', without)).toBeUndefined();
  });

  it('accepts valid records of every stream', () => {
    const records: [StreamName, Record<string, unknown>][] = [
      [
        'product_changes',
        {
          product_id: 'p1',
          tenant_id: 't1',
          change_type: 'price',
          old_price: 9.99,
          new_price: 12.5,
          changed_at: '2026-02-01T10:00:00Z',
        },
      ],
      [
        'agent_decisions',
        {
          decision_id: 'd1',
          tenant_id: 't1',
          agent_type: 'pricing',
          action: 'lower price',
          outcome: 'executed',
          confidence: 0.87,
          latency_ms: 120,
          decided_at: '2026-02-01T10:00:00+02:00',
        },
      ],
      [
        'api_calls',
        {
          request_id: 'r1',
          tenant_id: 't1',
          route: '/v1/orders',
          method: 'GET',
          status_code: 200,
          duration_ms: 12.5,
          called_at: '2026-02-01T10:00:00.123Z',
        },
      ],
    ];
    for (const [stream, data] of records) {
      expect(validateRecord(stream, toLakeRecord(createEvent(stream, data as never)))).toBeUndefined();
    }
  });

  it.each([
    ['an unknown field', { discount: 1 }, 'field "discount" is not in the stream schema'],
    ['a missing required field', { order_id: undefined }, 'field "order_id" is required'],
    ['null in a required field', { site_id: null }, 'field "site_id" is required'],
    ['a missing event_id', { event_id: undefined }, 'field "event_id" is required'],
    ['a number for a string', { currency: 978 }, 'field "currency" must be a string'],
    ['a string for a decimal', { total_amount: '10.50' }, 'field "total_amount" must be a finite number'],
    ['a decimal with 5 places', { total_amount: 10.12345 }, 'has more than 4 decimal places'],
    ['a decimal beyond precision 18', { total_amount: 1e15 }, 'too many digits for decimal128(18, 4)'],
    ['a fraction for an int64', { item_count: 1.5 }, 'field "item_count" must be an integer (int64)'],
    ['a string for an int64', { item_count: '3' }, 'field "item_count" must be an integer'],
    ['an unparsable timestamp', { created_at: 'yesterday' }, 'field "created_at" must be an RFC 3339'],
    ['a timestamp without a zone', { created_at: '2026-02-01T10:00:00' }, 'must be an RFC 3339'],
    ['an impossible date', { created_at: '2026-13-45T10:00:00Z' }, 'must be an RFC 3339'],
    ['a number for a timestamp', { created_at: 1767261600000 }, 'must be an RFC 3339 string'],
  ])('rejects %s', (_name, change, reason) => {
    const rec: Record<string, unknown> = { ...valid(), ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete rec[k];
    const problem = validateRecord('orders', rec);
    expect(problem).toContain(reason);
    expect(problem).toMatch(/^stream orders: /);
  });

  it('rejects an int32 out of range and a non-finite float', () => {
    const base = toLakeRecord(
      createEvent('api_calls', {
        request_id: 'r1',
        tenant_id: 't1',
        route: '/',
        method: 'GET',
        status_code: 200,
        duration_ms: 1,
        called_at: '2026-02-01T10:00:00Z',
      }),
    );
    expect(validateRecord('api_calls', { ...base, status_code: 2 ** 31 })).toContain(
      'out of range for int32',
    );
    expect(validateRecord('api_calls', { ...base, duration_ms: Number.NaN })).toContain(
      'must be a finite number (float64)',
    );
  });

  it('rejects something that is not an object', () => {
    expect(validateRecord('orders', [valid()])).toContain('must be a JSON object');
  });
});

describe('pipelinesRecordCheck as the sink check hook', () => {
  it('names an unknown stream', () => {
    expect(pipelinesRecordCheck('nope', {})).toBe('unknown stream "nope"');
  });

  it('is the HTTP sink check by default, and check: false turns it off', async () => {
    const sink = createHttpSink({ url: 'http://127.0.0.1:9/{stream}' });
    const off = createHttpSink({ url: 'http://127.0.0.1:9/{stream}', check: false });
    try {
      expect(sink.check).toBe(pipelinesRecordCheck);
      expect(sink.check?.('orders', { event_id: 'e' })).toContain('is required');
      expect(off.check).toBeUndefined();
    } finally {
      await sink.close?.();
      await off.close?.();
    }
  });
});
