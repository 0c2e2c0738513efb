import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEvent } from '../../src/domain/envelope.js';
import { migrate } from '../../src/outbox/migrate.js';
import { createOutbox } from '../../src/outbox/outbox.js';
import { order } from '../support/fixtures.js';

let pool: pg.Pool;
beforeAll(() => {
  pool = new pg.Pool({ connectionString: inject('databaseUrl'), max: 2 });
});
afterAll(() => pool.end());

const freshSchema = () =>
  `lhtest_settings_${Math.floor(Date.now() / 1000).toString(36)}_${randomBytes(3).toString('hex')}`;

describe('stored outbox settings', () => {
  it('sets the lane count at migrate, and refuses to change it while events are pending', async () => {
    const url = inject('databaseUrl');
    const schema = freshSchema();
    expect(await migrate(url, { schema, lanes: 16 })).toMatchObject({ lanes: 16 });
    const outbox = createOutbox({ schema });
    const r = await outbox.transaction(pool, async (tx) =>
      tx.emit(createEvent('orders', order('s-1', 'settings-t'))),
    );
    expect(r.emitted.partitions[0]?.lane).toBeLessThan(16);
    await expect(migrate(url, { schema, lanes: 32 })).rejects.toThrow(/while 1 event\(s\) are pending/);
    expect(await migrate(url, { schema })).toMatchObject({ lanes: 16 });
    await pool.query(`DELETE FROM "${schema}".pending`);
    expect(await migrate(url, { schema, lanes: 32 })).toMatchObject({ lanes: 32 });
  });

  it('refuses an outbox whose position sequence no longer has CACHE 1', async () => {
    const url = inject('databaseUrl');
    const schema = freshSchema();
    await migrate(url, { schema });
    await pool.query(`ALTER SEQUENCE "${schema}".events_position_seq CACHE 20`);
    await expect(migrate(url, { schema })).rejects.toThrow(/CACHE 20; it must be CACHE 1/);
  });
});
