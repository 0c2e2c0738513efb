import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { migrate } from '../../src/outbox/migrate.js';

describe('migrate', () => {
  it('is safe to run twice and from several processes at once', async () => {
    const url = inject('databaseUrl');
    const schema = `lhtest_migrate_${Math.floor(Date.now() / 1000).toString(36)}_${randomBytes(3).toString('hex')}`;
    const results = await Promise.all([1, 2, 3, 4].map(() => migrate(url, { schema })));
    expect(results.map((r) => r.applied).sort()).toEqual([0, 0, 0, 3]);
    expect(await migrate(url, { schema })).toMatchObject({ applied: 0, total: 3, lanes: 64 });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    let rows: { table_name: string }[];
    try {
      ({ rows } = await c.query(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
        [schema],
      ));
    } finally {
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    }
    expect(rows.map((r) => r.table_name)).toEqual([
      '__migrations',
      'aggregate_streams',
      'delivered_rollup',
      'delivery_log',
      'events',
      'lanes',
      'parked',
      'partitions',
      'pending',
      'settings',
    ]);
  });

  it('rejects a schema name that is not a plain identifier, naming the setting', async () => {
    await expect(migrate(inject('databaseUrl'), { schema: 'x"; DROP TABLE y; --' })).rejects.toThrow(
      /LAKEHOUSE_DB_SCHEMA/,
    );
  });
});
