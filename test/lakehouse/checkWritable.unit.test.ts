import { describe, expect, it } from 'vitest';
import { checkWritable } from '../../src/lakehouse/checkWritable.js';
import { checkRecord } from '../../src/lakehouse/validateRecords.js';

const cols = new Map<string, string>([
  ['s', 'VARCHAR'],
  ['t', 'TIMESTAMPTZ'],
  ['d', 'DECIMAL(18,4)'],
  ['i', 'INTEGER'],
  ['b', 'BIGINT'],
]);

describe('checkWritable', () => {
  it('accepts values the writer can store, nulls included', () => {
    expect(
      checkWritable(
        { s: 'é😀', t: '9999-12-31T23:59:59.999Z', d: 99_999_999_999.9999, i: -(2 ** 31), b: null },
        cols,
      ),
    ).toEqual([]);
  });

  it('names each field the writer cannot store', () => {
    expect(
      checkWritable(
        { s: '\udc00', t: '+010000-01-01T13:00:00.000Z', d: 100_000_000_000_000, i: 2 ** 31, b: 2 ** 53 },
        cols,
      ).map((f) => f.field),
    ).toEqual(['s', 't', 'd', 'i', 'b']);
    expect(checkWritable({ d: 1.00001 }, cols)[0]!.message).toMatch(/4 decimal places/);
    expect(checkWritable({ t: '0000-12-31T23:00:00.000Z' }, cols)[0]!.message).toMatch(/0001-01-01/);
  });

  it('checks a record against the schema and the writer in one call', () => {
    const r = checkRecord('user_activity', {
      event_id: '0195134f-8258-7e85-8000-000000000001',
      event_type: 'activity.recorded',
      tenant_id: 't1',
      session_id: 's1',
      activity_type: 'search',
      search_query: 'a\ud800',
      occurred_at: '2026-02-01T10:00:00Z',
    });
    expect(r).toEqual({
      ok: false,
      failures: [{ field: 'search_query', message: expect.stringMatching(/surrogate/) }],
    });
  });
});
