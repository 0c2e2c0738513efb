import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { compact } from '../../src/lakehouse/compact.js';
import { liveDataFiles } from '../../src/lakehouse/manifests.js';
import { tablePaths } from '../../src/lakehouse/paths.js';
import { runQuery } from '../../src/lakehouse/query.js';
import { loadTable } from '../../src/lakehouse/tableMetadata.js';
import { acquireWarehouseLock, lockPath } from '../../src/lakehouse/warehouseLock.js';
import { runCli } from '../support/cli.js';
import { killAll, serve } from './processes.js';
import {
  order,
  postJson,
  startServer,
  stopAll,
  TENANT_A,
  TENANT_B,
  tempWarehouse,
  until,
} from './support.js';

afterEach(async () => {
  await killAll();
  await stopAll();
});

const count = async (warehouse: string) =>
  Number((await runQuery(warehouse, 'SELECT COUNT(*) AS n FROM orders')).rows[0]!.n);

const batch = (n: number, tenant = TENANT_A) =>
  Array.from({ length: n }, (_, i) => order(tenant, `2026-02-0${1 + (i % 5)}T10:00:00Z`, 1 + i, 'c'));

describe('one writer per warehouse', () => {
  it('refuses a second serve on the same warehouse at once, naming the holder, and loses nothing acknowledged', async () => {
    const warehouse = await tempWarehouse();
    const first = await serve(warehouse, ['--roll-interval-ms', '3600000']);
    const acked = batch(10);
    expect(await postJson(`${first.url}/ingest/orders`, acked)).toEqual({
      status: 200,
      body: { committed: 10 },
    });

    const second = await runCli(['serve', '--port', '0', '--warehouse', warehouse], {
      env: { ...process.env, LAKEHOUSE_SINK_TOKEN: '', LAKEHOUSE_DASHBOARD_TOKEN: '' },
    });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`pid ${first.child.pid}`);
    expect(second.stderr).toContain('"lakehouse serve"');
    expect(second.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace

    // The first server still has everything it acknowledged, and keeps going.
    expect(await postJson(`${first.url}/ingest/orders`, batch(5))).toMatchObject({ status: 200 });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(await count(warehouse)).toBe(15);
  });

  it('takes over the lock of a server killed with SIGKILL', async () => {
    const warehouse = await tempWarehouse();
    const first = await serve(warehouse, ['--roll-interval-ms', '3600000']);
    expect((await postJson(`${first.url}/ingest/orders`, batch(3))).status).toBe(200);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await serve(warehouse, ['--roll-interval-ms', '50']);
    await until('the staged records to be committed', async () =>
      (await count(warehouse)) === 3 ? true : undefined,
    );
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('runs compact and expire-snapshots through the running server while ingest goes on', async () => {
    const warehouse = await tempWarehouse();
    const s = await serve(warehouse, ['--roll-interval-ms', '20']);
    let acked = 0;
    let stop = false;
    const ingesting = (async () => {
      for (let i = 0; !stop; i++) {
        const r = await postJson(`${s.url}/ingest/orders`, batch(4, i % 2 ? TENANT_A : TENANT_B));
        expect(r.status).toBe(200);
        acked += 4;
      }
    })();
    await until('a few commits', async () => ((await count(warehouse)) >= 40 ? true : undefined));
    const env = { ...process.env, LAKEHOUSE_WAREHOUSE: warehouse };
    const c = await runCli(['compact', '--table', 'orders', '--json'], { env });
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).tables[0].filesRemoved).toBeGreaterThan(1);
    const e = await runCli(['expire-snapshots', '--older-than', '0s', '--retain-last', '1', '--json'], {
      env,
    });
    expect(e.code, e.stderr).toBe(0);
    stop = true;
    await ingesting;
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(await count(warehouse)).toBe(acked);
  });

  it('takes over a lock recorded before a reboot, even when its pid is alive now', async () => {
    const warehouse = await tempWarehouse();
    const stale = {
      pid: process.pid,
      host: hostname(),
      command: 'serve',
      startedAt: 'x',
      bootId: 'another-boot',
    };
    await writeFile(lockPath(warehouse), JSON.stringify(stale));
    const lock = await acquireWarehouseLock(warehouse, 'compact');
    expect(lock.holder.command).toBe('compact');
    await lock.release();
  });

  it('fails compact at once, naming the holder, when the holder is not a server', async () => {
    const warehouse = await tempWarehouse();
    const lock = await acquireWarehouseLock(warehouse, 'compact');
    try {
      const r = await runCli(['compact'], { env: { ...process.env, LAKEHOUSE_WAREHOUSE: warehouse } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`"lakehouse compact" (pid ${process.pid}`);
    } finally {
      await lock.release();
    }
  });

  it('compacts busy partitions in the background while ingest goes on, rows unchanged', async () => {
    const s = await startServer({ compactIntervalMs: 100, compactMinFiles: 3 });
    const paths = tablePaths(s.warehouse, 'lakehouse', 'orders');
    // Three commits into one partition: three small files, the threshold.
    for (let i = 0; i < 3; i++) {
      expect((await postJson(`${s.url}/ingest/orders`, batch(2))).status).toBe(200);
      await s.ingestor.flush();
    }
    await until('the background compaction', async () => {
      const md = (await loadTable(paths))!.metadata;
      return md.snapshots.at(-1)!.summary.operation === 'replace' ? md : undefined;
    });
    expect((await liveDataFiles((await loadTable(paths))!.metadata)).files.length).toBe(1);
    expect((await postJson(`${s.url}/ingest/orders`, batch(2))).status).toBe(200);
    await s.ingestor.flush();
    expect(await count(s.warehouse)).toBe(8);
  });

  it('lets library maintenance run through the ingestor of the same process', async () => {
    const s = await startServer();
    for (let i = 0; i < 3; i++) {
      expect((await postJson(`${s.url}/ingest/orders`, batch(2))).status).toBe(200);
      await s.ingestor.flush();
    }
    const [r] = await compact({ warehouse: s.warehouse, table: 'orders' });
    expect(r!.filesRemoved).toBeGreaterThan(1);
    await expect(startServer({ warehouse: s.warehouse })).rejects.toThrow(/in use by "lakehouse serve"/);
  });
});
