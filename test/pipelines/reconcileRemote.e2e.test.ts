import { describe, expect, it } from 'vitest';
import { order } from '../support/fixtures.js';
import { useStandInWithDb } from './support/standInWithDb.js';

const t = useStandInWithDb(import.meta.filename);

const COLUMNS = [
  'event_id',
  'tenant_id',
  'order_id',
  'total_amount',
  'status',
  'created_at',
  'year',
  'month',
];
const GROUPS = [
  { tenant_id: 't1', day: '2026-01-05', lake_rows: 1, lake_events: 1, sum_total_amount: '10.5' },
  { tenant_id: 't1', day: '2026-02-07', lake_rows: 1, lake_events: 1, sum_total_amount: '20' },
];

describe('lakehouse reconcile --remote across stream versions', () => {
  it('reads orders and orders_v2 through Basin SQL and exits 0 when together they hold every delivered event', async () => {
    const { cf, db } = t;
    cf.seed('stream', { name: 'orders', schema: { fields: [] } });
    cf.seed('stream', { name: 'orders_v2', schema: { fields: [] } });
    await db.outbox.emit(
      db.pool,
      {
        stream: 'orders',
        data: order('r-1', 't1', { total_amount: 10.5, created_at: '2026-01-05T10:00:00Z' }),
      },
      {
        stream: 'orders',
        data: order('r-2', 't1', { total_amount: 20, created_at: '2026-02-07T10:00:00Z' }),
      },
    );
    await db.pool.query(`TRUNCATE ${db.schema}.pending`); // delivered
    const lakeQueries: string[] = [];
    // The January event is in orders, the February one in orders_v2: only the union holds both.
    cf.sql = (body) => {
      const query = body.query ?? '';
      const probe = /^SELECT \* FROM (lakehouse\.orders(?:_v2)?) LIMIT 1$/.exec(query);
      const ok = (schema: string[], rows: unknown[]) =>
        [200, { success: true, errors: [], result: { schema: schema.map((name) => ({ name })), rows } }] as [
          number,
          unknown,
        ];
      if (probe) return ok(COLUMNS, []);
      lakeQueries.push(query);
      return ok(Object.keys(GROUPS[0]!), query.includes('lakehouse.orders_v2') ? GROUPS : GROUPS.slice(0, 1));
    };
    const r = await t.cli(['reconcile', '--remote', '--stream', 'orders', '--settle', '0s', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.problems).toEqual([]);
    expect(out.tables).toEqual([
      { table: 'lakehouse.orders', delivered: 2, filtered: 0, lakeEvents: 2, lakeRows: 2 },
    ]);
    expect(lakeQueries).toHaveLength(1);
    expect(lakeQueries[0]).toContain('FROM lakehouse.orders\n  UNION ALL SELECT');
    expect(lakeQueries[0]).toContain('FROM lakehouse.orders_v2) AS orders');
  });
});
