import { access } from 'node:fs/promises';
import { icebergRead } from 'icebird';
import { afterAll, describe, expect, it } from 'vitest';
import { compact } from '../../src/lakehouse/compact.js';
import { dataFilesOnDisk } from '../../src/lakehouse/expireSnapshots.js';
import { liveDataFiles } from '../../src/lakehouse/manifests.js';
import { fromFileUri, tablePaths } from '../../src/lakehouse/paths.js';
import { runQuery } from '../../src/lakehouse/query.js';
import { loadTable } from '../../src/lakehouse/tableMetadata.js';
import { runCli } from '../support/cli.js';
import { fileFetch, order, postJson, startServer, stopAll, TENANT_A, TENANT_B } from './support.js';

afterAll(async () => {
  await stopAll();
});

describe('table maintenance', () => {
  it('compacts small files into a replace snapshot and expires old snapshots without touching live files', async () => {
    const s = await startServer();
    for (let i = 0; i < 4; i++) {
      const batch = [
        order(TENANT_A, '2026-02-01T10:00:00Z', i + 1, 'c'),
        order(TENANT_B, '2026-01-01T10:00:00Z', 10, 'd'),
      ];
      expect((await postJson(`${s.url}/ingest/orders`, batch)).status).toBe(200);
      await s.ingestor.flush();
    }
    const paths = tablePaths(s.warehouse, 'lakehouse', 'orders');
    const before = (await loadTable(paths))!;
    expect((await liveDataFiles(before.metadata)).files.length).toBe(8);
    const answer =
      'SELECT tenant_id, SUM(total_amount) AS s, COUNT(*) AS n FROM orders GROUP BY 1 ORDER BY 1';
    const expected = (await runQuery(s.warehouse, answer)).rows;

    const [r] = await compact({ warehouse: s.warehouse, table: 'orders' });
    expect(r).toMatchObject({
      table: 'lakehouse.orders',
      partitionsRewritten: 2,
      filesRemoved: 8,
      filesAdded: 2,
    });
    const after = (await loadTable(paths))!;
    const current = after.metadata.snapshots.at(-1)!;
    expect(current.summary.operation).toBe('replace');
    expect(current.summary['total-records']).toBe('8');
    expect((await liveDataFiles(after.metadata)).files.length).toBe(2);
    expect((await runQuery(s.warehouse, answer)).rows).toEqual(expected);

    // Ingest keeps working on top of the compacted table.
    expect(
      (await postJson(`${s.url}/ingest/orders`, [order(TENANT_A, '2026-02-02T10:00:00Z', 5, 'c')])).status,
    ).toBe(200);
    await s.ingestor.flush();

    const env = { ...process.env, LAKEHOUSE_WAREHOUSE: s.warehouse };
    const cli = await runCli(['expire-snapshots', '--older-than', '0s', '--retain-last', '2', '--json'], {
      env,
    });
    expect(cli.code, cli.stderr).toBe(0);
    const orders = JSON.parse(cli.stdout).tables.find(
      (t: { table: string }) => t.table === 'lakehouse.orders',
    );
    expect(orders.snapshotsExpired).toBe(4);
    expect(orders.filesDeleted).toBeGreaterThan(0);

    const final = (await loadTable(paths))!;
    expect(final.metadata.snapshots.length).toBe(2);
    for (const snap of final.metadata.snapshots) {
      for (const f of (await liveDataFiles(final.metadata, snap['snapshot-id'])).files) {
        await access(fromFileUri(f.path)); // every file a retained snapshot references is still there
      }
    }
    // The 8 small files only expired snapshots referenced are gone.
    expect((await dataFilesOnDisk(s.warehouse, 'lakehouse', 'orders')).length).toBe(3);
    const rows = (await runQuery(s.warehouse, 'SELECT COUNT(*) AS n FROM orders')).rows;
    expect(rows).toEqual([{ n: 9 }]);
    const realFetch = globalThis.fetch;
    globalThis.fetch = fileFetch(realFetch);
    try {
      expect((await icebergRead({ tableUrl: paths.location })).length).toBe(9);
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
