import { describe, expect, it } from 'vitest';
import { assertDelivered, checkDelivery, type ExpectedEvent } from '../support/checker.js';

const ev = (event_id: string, partitionKey = 't1', stream = 'orders', seq?: number): ExpectedEvent =>
  seq === undefined ? { event_id, stream, partitionKey } : { event_id, stream, partitionKey, seq };
const got = (...ids: string[]) => ids.map((event_id) => ({ event_id, stream: 'orders' }));

describe('checkDelivery', () => {
  it('reports a clean delivery as clean', () => {
    const r = checkDelivery({ expected: [ev('a'), ev('b'), ev('c')], received: got('a', 'b', 'c') });
    expect(r).toMatchObject({
      missing: [],
      phantoms: [],
      duplicates: 0,
      orderViolations: [],
      misrouted: [],
      deliveredCount: 3,
      receivedCount: 3,
    });
    expect(() => assertDelivered(r)).not.toThrow();
  });

  it('lists committed events that never arrived', () => {
    const r = checkDelivery({ expected: [ev('a'), ev('b'), ev('c')], received: got('a', 'c') });
    expect(r.missing).toEqual(['b']);
    expect(r.deliveredCount).toBe(2);
    expect(r.orderViolations).toEqual([]);
  });

  it('lists rolled-back and never-emitted arrivals as phantoms, once each', () => {
    const r = checkDelivery({
      expected: [ev('a')],
      rolledBack: ['rb'],
      received: got('a', 'rb', 'ghost', 'rb'),
    });
    expect(r.phantoms).toEqual(['rb', 'ghost']);
    expect(r.duplicates).toBe(1);
  });

  it('counts extra copies as duplicates', () => {
    const r = checkDelivery({
      expected: [ev('a'), ev('b'), ev('c')],
      received: got('a', 'a', 'b', 'a', 'c', 'c'),
    });
    expect(r.duplicates).toBe(3);
    expect(r.duplicateIds.sort()).toEqual(['a', 'c']);
    expect(r.orderViolations).toEqual([]);
    expect(() => assertDelivered(r)).not.toThrow();
    expect(() => assertDelivered(r, { maxDuplicates: 2 })).toThrow(/3 duplicate\(s\) \(at most 2 allowed\)/);
  });

  it('flags an order violation on first arrivals within a partition', () => {
    const r = checkDelivery({ expected: [ev('a'), ev('b'), ev('c')], received: got('b', 'a', 'c') });
    expect(r.orderViolations).toEqual([{ partition: 't1', before: 'a', after: 'b' }]);
  });

  it('uses the first arrival: a late duplicate after later events is not a violation', () => {
    // a, b, c delivered in order; then the batch holding a and b is resent (at least once).
    const r = checkDelivery({
      expected: [ev('a'), ev('b'), ev('c')],
      received: got('a', 'b', 'c', 'a', 'b'),
    });
    expect(r.orderViolations).toEqual([]);
    expect(r.duplicates).toBe(2);
  });

  it('flags a first arrival that overtook its predecessor even when a copy came in order later', () => {
    const r = checkDelivery({ expected: [ev('a'), ev('b')], received: got('b', 'a', 'b') });
    expect(r.orderViolations).toEqual([{ partition: 't1', before: 'a', after: 'b' }]);
  });

  it('checks order per partition only: interleaving across partitions is fine', () => {
    const expected = [ev('a1', 'A'), ev('a2', 'A'), ev('b1', 'B'), ev('b2', 'B')];
    expect(checkDelivery({ expected, received: got('b1', 'a1', 'b2', 'a2') }).orderViolations).toEqual([]);
    expect(checkDelivery({ expected, received: got('a1', 'b2', 'a2', 'b1') }).orderViolations).toEqual([
      { partition: 'B', before: 'b1', after: 'b2' },
    ]);
  });

  it('orders by seq when every event of the partition has one', () => {
    const expected = [ev('x', 'A', 'orders', 2), ev('y', 'A', 'orders', 1)];
    expect(checkDelivery({ expected, received: got('y', 'x') }).orderViolations).toEqual([]);
    expect(checkDelivery({ expected, received: got('x', 'y') }).orderViolations).toEqual([
      { partition: 'A', before: 'y', after: 'x' },
    ]);
  });

  it('ignores missing events when checking order', () => {
    const r = checkDelivery({ expected: [ev('a'), ev('b'), ev('c')], received: got('a', 'c') });
    expect(r.orderViolations).toEqual([]);
  });

  it('reads the sink server entries ({stream, record}) and checks stream and partition', () => {
    const received = [
      { stream: 'orders', requestNo: 1, index: 0, arrivedAt: 0, record: { event_id: 'a', tenant_id: 't1' } },
      {
        stream: 'invoices',
        requestNo: 1,
        index: 1,
        arrivedAt: 0,
        record: { event_id: 'b', tenant_id: 't2' },
      },
    ];
    const r = checkDelivery({
      expected: [ev('a'), ev('b')],
      received,
      partitionOf: (x) => String(x.record.tenant_id),
    });
    expect(r.missing).toEqual([]);
    expect(r.misrouted).toEqual([
      { event_id: 'b', field: 'stream', expected: 'orders', got: 'invoices' },
      { event_id: 'b', field: 'partition', expected: 't1', got: 't2' },
    ]);
  });

  it('rejects inconsistent input', () => {
    expect(() => checkDelivery({ expected: [ev('a'), ev('a')], received: [] })).toThrow(/expected twice/);
    expect(() => checkDelivery({ expected: [ev('a')], rolledBack: ['a'], received: [] })).toThrow(
      /rolled back/,
    );
  });
});

describe('assertDelivered', () => {
  it('throws a readable message listing the first few problems of each kind', () => {
    const expected = Array.from({ length: 10 }, (_, i) => ev(`e${i}`));
    const r = checkDelivery({ expected, rolledBack: ['rb'], received: got('e1', 'e0', 'rb') });
    let message = '';
    try {
      assertDelivered(r, { show: 3 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('2/10 delivered, 3 received');
    expect(message).toContain('8 missing: e2, e3, e4, ... (5 more)');
    expect(message).toContain('1 phantom (rolled back or never emitted): rb');
    expect(message).toContain('[t1] e1 arrived before e0');
  });
});
