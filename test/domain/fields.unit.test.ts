import { describe, expect, it } from 'vitest';
import { createEvent } from '../../src/domain/envelope.js';
import { order, rejection } from '../support/fixtures.js';

describe('money beyond what a JSON number holds exactly', () => {
  it('rejects 9999999999999.9999 (it would arrive as 10000000000000) naming the field and the limit', () => {
    const e = rejection(() =>
      createEvent('orders', order('o-1', 't1', { total_amount: JSON.parse('9999999999999.9999') })),
    );
    expect(e.issues[0]).toMatchObject({ stream: 'orders', field: 'total_amount' });
    expect(e.issues[0]!.problem).toMatch(/at most 99999999999\.9999 .*15 significant digits/);
  });

  it('accepts the largest amount, which survives JSON exactly', () => {
    const ev = createEvent('orders', order('o-1', 't1', { total_amount: 99999999999.9999 }));
    expect(JSON.stringify(ev.data.total_amount)).toBe('99999999999.9999');
  });
});

describe('timestamps outside years 1900-9999', () => {
  it.each(['0000-01-01T00:00:00Z', '1899-12-31T23:59:59Z', '+010000-01-01T00:00:00Z'])(
    'rejects %s at emit naming the field',
    (created_at) => {
      const e = rejection(() => createEvent('orders', order('o-1', 't1', { created_at })));
      expect(e.issues[0]).toMatchObject({ stream: 'orders', field: 'created_at' });
    },
  );

  it('rejects a Date in year 10000 and accepts the bounds', () => {
    const e = rejection(() =>
      createEvent('orders', order('o-1', 't1', { created_at: new Date(Date.UTC(10000, 0, 1)) })),
    );
    expect(e.issues[0]!.problem).toMatch(/between the years 1900 and 9999/);
    for (const created_at of ['1900-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z']) {
      expect(createEvent('orders', order('o-1', 't1', { created_at })).data.created_at).toBe(
        new Date(created_at).toISOString(),
      );
    }
  });
});

describe('tenant ids', () => {
  it.each(['NULL', "o'brien", 'ü ñ 租户', 'shop:eu', 'x@y', 'a/b'])(
    'accepts %s as an ordinary id',
    (tenant) => {
      expect(createEvent('orders', order('o-1', tenant)).data.tenant_id).toBe(tenant);
    },
  );

  it.each([
    ['', /must not be empty/],
    ['a\nb', /control characters/],
    ['x'.repeat(65), /at most 64/],
  ])('rejects %j', (tenant, problem) => {
    expect(rejection(() => createEvent('orders', order('o-1', tenant))).issues[0]!.problem).toMatch(problem);
  });
});

describe('event ids', () => {
  it('stores an upper-case event id in lower case', () => {
    const id = '0195134F-8258-7E85-9ABC-0123456789AB';
    expect(createEvent('orders', order('o-1'), { eventId: id }).event_id).toBe(id.toLowerCase());
  });
});
