import { access, rm } from 'node:fs/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { liveDataFiles } from '../../src/lakehouse/manifests.js';
import { fromFileUri, tablePaths } from '../../src/lakehouse/paths.js';
import { runQuery } from '../../src/lakehouse/query.js';
import { loadTable } from '../../src/lakehouse/tableMetadata.js';
import { runCli } from '../support/cli.js';
import { killAll, serve } from './processes.js';
import { order, postJson, TENANT_A, tempWarehouse, until } from './support.js';

const warehouses: string[] = [];
afterEach(async () => {
  await killAll();
});
afterAll(async () => {
  for (const w of warehouses) await rm(w, { recursive: true, force: true });
});

const expiredSoFar = (stderr: string) =>
  [...stderr.matchAll(/snapshot expiry: (\d+) snapshot\(s\) expired/g)].reduce((n, m) => n + Number(m[1]), 0);

describe('lakehouse serve --expire-interval (scheduled snapshot expiry)', () => {
  it('refuses a bare number with exit 2', async () => {
    const r = await runCli(['serve', '--port', '0', '--expire-interval', '60']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"60" has no unit');
  });

  it('expires old snapshots on a schedule while ingest commits go on, losing no row and no live file', async () => {
    const warehouse = await tempWarehouse();
    warehouses.push(warehouse);
    const s = await serve(warehouse, [
      '--roll-interval-ms',
      '50',
      '--compact-interval',
      '0s',
      '--expire-interval',
      '1s',
      '--expire-older-than',
      '1s',
      '--expire-retain-last',
      '2',
    ]);
    let posted = 0;
    let commits = 0;
    const paths = tablePaths(warehouse, 'lakehouse', 'orders');
    // Keep committing until the expiry has run twice with something to expire: it runs between commits.
    while (expiredSoFar(s.stderr()) === 0 || (s.stderr().match(/snapshot expiry:/g) ?? []).length < 2) {
      const batch = [order(TENANT_A, '2026-02-01T10:00:00Z', posted + 1, 'c')];
      expect((await postJson(`${s.url}/ingest/orders`, batch)).status).toBe(200);
      posted += batch.length;
      commits = await until('the commit of the batch', async () => {
        const n = (await loadTable(paths))?.metadata['last-sequence-number'] ?? 0;
        return n > commits ? n : undefined;
      });
      expect(commits).toBeLessThan(400);
    }
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.stderr()).not.toContain('background snapshot expiry');

    const md = (await loadTable(paths))!.metadata;
    expect(md.snapshots.length).toBeLessThan(commits);
    for (const f of (await liveDataFiles(md)).files) await access(fromFileUri(f.path));
    const { rows } = await runQuery(warehouse, 'SELECT COUNT(*) AS n FROM orders');
    expect(Number(rows[0]?.n)).toBe(posted);
  });
});
