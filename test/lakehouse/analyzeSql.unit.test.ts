import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeParseTree, mayMatch } from '../../src/lakehouse/analyzeSql.js';
import { microsOf, serializeValue } from '../../src/lakehouse/singleValue.js';

describe('analyzeParseTree', () => {
  let duck: DuckDBInstance;
  beforeAll(async () => {
    duck = await DuckDBInstance.create(':memory:');
  });
  afterAll(() => duck.closeSync());
  const analyze = async (sql: string) => {
    const c = await duck.connect();
    try {
      const r = await c.runAndReadAll(`SELECT json_serialize_sql('${sql.replaceAll("'", "''")}')`);
      return analyzeParseTree(String(r.getRows()[0]![0]));
    } finally {
      c.closeSync();
    }
  };

  it('collects partition predicates per table reference', async () => {
    const a = await analyze(
      "SELECT * FROM (SELECT * FROM orders o WHERE o.year = 2026 AND month IN (1, 2) AND 'x' = tenant_id) t JOIN orders p USING (tenant_id) WHERE p.month BETWEEN 3 AND 4",
    );
    expect(a).toEqual({
      ok: true,
      references: expect.arrayContaining([
        {
          table: 'orders',
          predicates: [
            { column: 'year', op: '=', values: [2026] },
            { column: 'month', op: 'in', values: [1, 2] },
            { column: 'tenant_id', op: '=', values: ['x'] },
          ],
        },
        {
          table: 'orders',
          predicates: [
            { column: 'month', op: '>=', values: [3] },
            { column: 'month', op: '<=', values: [4] },
          ],
        },
      ]),
    });
  });

  it('does not attribute unqualified columns in joins or OR branches', async () => {
    const a = await analyze(
      'SELECT * FROM orders JOIN product_changes USING (tenant_id) WHERE year = 2026 OR month = 1',
    );
    expect(a.ok && a.references.every((r) => r.predicates.length === 0)).toBe(true);
  });

  it('rejects non-SELECT statements, several statements and table functions', async () => {
    expect((await analyze('DELETE FROM orders')).ok).toBe(false);
    expect((await analyze('SELECT 1; SELECT 2')).ok).toBe(false);
    expect((await analyze("SELECT * FROM read_parquet('x')")).ok).toBe(false);
    expect((await analyze("SELECT * FROM 'x.parquet'")).ok).toBe(false);
  });

  it('prunes only when the comparison is certainly false', () => {
    expect(mayMatch(2, { column: 'month', op: '=', values: [2] })).toBe(true);
    expect(mayMatch(1, { column: 'month', op: '=', values: [2] })).toBe(false);
    expect(mayMatch(1, { column: 'month', op: '=', values: ['01'] })).toBe(true);
    expect(mayMatch(1, { column: 'month', op: '>', values: [1] })).toBe(false);
    expect(mayMatch('a', { column: 'tenant_id', op: '<', values: ['b'] })).toBe(true);
    expect(mayMatch('a', { column: 'tenant_id', op: 'in', values: ['b', 'c'] })).toBe(false);
    expect(mayMatch(null, { column: 'month', op: '=', values: [2] })).toBe(true);
  });
});

describe('single-value serialization', () => {
  it('encodes the Iceberg binary forms', () => {
    expect(serializeValue('long', 2026)?.toString('hex')).toBe('ea07000000000000');
    expect(serializeValue('int', 1)?.toString('hex')).toBe('01000000');
    expect(serializeValue('date', '1970-01-02')?.toString('hex')).toBe('01000000');
    expect(serializeValue('string', 'ab')?.toString('hex')).toBe('6162');
    expect(serializeValue('decimal(18, 4)', '10.5000')?.toString('hex')).toBe('019a28'); // 105000
    expect(serializeValue('decimal(18, 4)', '-0.0001')?.toString('hex')).toBe('ff');
    expect(microsOf('1970-01-01 00:00:01.5+00')).toBe(1_500_000n);
    expect(microsOf('1970-01-01 01:00:00+01')).toBe(0n);
  });
});
