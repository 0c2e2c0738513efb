import { describe, expect, it } from 'vitest';
import { pipelines } from '../../src/pipelines/definitions.js';
import { lakeGroupsSql } from '../../src/reports/reconcileSql.js';
import { readAcrossVersions, versionsInTableNames } from '../../src/reports/versionTables.js';

const tables = {
  'lakehouse.orders': [
    { table: 'lakehouse.orders', columns: ['event_id', 'tenant_id', 'total_amount'] },
    { table: 'lakehouse.orders_v2', columns: ['event_id', 'tenant_id', 'total_amount', 'discount'] },
  ],
};

describe('reading across stream versions', () => {
  it('reads a stream with one version (or none listed) as its table', () => {
    expect(readAcrossVersions('lakehouse.orders')).toBe('lakehouse.orders');
    expect(readAcrossVersions('lakehouse.product_changes', tables)).toBe('lakehouse.product_changes');
    expect(
      readAcrossVersions('lakehouse.orders', {
        'lakehouse.orders': [{ table: 'lakehouse.orders_v2', columns: [] }],
      }),
    ).toBe('lakehouse.orders_v2');
  });

  it('unions every version with the columns of all, a missing one as NULL, newest columns first', () => {
    expect(readAcrossVersions('lakehouse.orders', tables)).toBe(
      '(SELECT event_id, tenant_id, total_amount, NULL AS discount FROM lakehouse.orders\n' +
        '  UNION ALL SELECT event_id, tenant_id, total_amount, discount FROM lakehouse.orders_v2) AS orders',
    );
  });

  it("reconcile's lake SQL reads the union", () => {
    expect(lakeGroupsSql(pipelines.orders, tables)).toContain(
      `FROM ${readAcrossVersions('lakehouse.orders', tables)}`,
    );
    expect(lakeGroupsSql(pipelines.orders)).toContain('FROM lakehouse.orders\n');
  });

  it('finds the versions of a table among table names, ignoring other tables', () => {
    expect(
      versionsInTableNames(pipelines.orders, [
        'orders_v3',
        'orders',
        'orders_v1',
        'orders_x',
        'orders_v2_sink',
        'order',
      ]),
    ).toEqual([1, 3]);
  });
});
