import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { icebergRead } from 'icebird';
import { afterEach, describe, expect, it } from 'vitest';
import { liveDataFiles } from '../../src/lakehouse/manifests.js';
import { tablePaths } from '../../src/lakehouse/paths.js';
import { runQuery } from '../../src/lakehouse/query.js';
import { loadTable } from '../../src/lakehouse/tableMetadata.js';
import { fileFetch, order, postJson, startServer, stopAll, TENANT_A, TENANT_B } from './support.js';

afterEach(async () => {
  await stopAll();
});

const stagedLines = async (warehouse: string) => {
  const dir = join(warehouse, '_staging', 'lakehouse.orders');
  let n = 0;
  for (const f of await readdir(dir))
    n += (await readFile(join(dir, f), 'utf8')).split('\n').filter(Boolean).length;
  return n;
};

describe('ingest', () => {
  it('rejects bad requests and keeps nothing of them', async () => {
    const s = await startServer({ token: 'tok', maxBodyBytes: 10_000 });
    const url = `${s.url}/ingest/orders`;
    const auth = { authorization: 'Bearer tok' };
    const good = order(TENANT_A, '2026-02-01T10:00:00Z', 1, null);

    expect((await postJson(url, [good])).status).toBe(401);
    expect((await postJson(url, [good], { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await postJson(url, '[{"event_id": ', auth)).status).toBe(400);
    expect((await postJson(url, { not: 'an array' }, auth)).status).toBe(400);
    const big = Array.from({ length: 100 }, () => order(TENANT_A, '2026-02-01T10:00:00Z', 1, null));
    expect((await postJson(url, big, auth)).status).toBe(413);
    expect((await postJson(`${s.url}/ingest/nope`, [good], auth)).status).toBe(404);

    const bad = [
      good,
      { ...order(TENANT_A, '2026-02-01T10:00:00Z', 1, null), total_amount: 'ten' },
      { ...order(TENANT_A, '2026-02-01T10:00:00Z', 1, null), event_id: 'not-a-uuid' },
      { ...order(TENANT_A, '2026-02-01T10:00:00Z', 1, null), surprise: 1 },
    ];
    const r = await postJson(url, bad, auth);
    expect(r.status).toBe(400);
    expect(r.body.success).toBe(false);
    expect(r.body.errors).toEqual([
      { index: 1, field: 'total_amount', message: expect.any(String) },
      { index: 2, field: 'event_id', message: 'must be a UUID' },
      { index: 3, field: 'surprise', message: 'is not a field of orders' },
    ]);

    expect(await stagedLines(s.warehouse)).toBe(0);
    await s.ingestor.flush();
    expect((await runQuery(s.warehouse, 'SELECT COUNT(*) AS n FROM orders')).rows).toEqual([{ n: 0 }]);

    // The valid record alone is accepted.
    expect(await postJson(url, [good], auth)).toEqual({ status: 200, body: { committed: 1 } });
    await s.ingestor.flush();
    expect((await runQuery(s.warehouse, 'SELECT COUNT(*) AS n FROM orders')).rows).toEqual([{ n: 1 }]);
  });

  it('drops duplicate event_ids within a batch and against the table', async () => {
    const s = await startServer();
    const url = `${s.url}/ingest/orders`;
    const a = order(TENANT_A, '2026-02-01T10:00:00Z', 1, null);
    const b = order(TENANT_A, '2026-02-01T10:00:00Z', 2, null);
    expect(await postJson(url, [a, a, b])).toEqual({ status: 200, body: { committed: 3 } });
    await s.ingestor.flush();
    expect(await postJson(url, [b, a])).toEqual({ status: 200, body: { committed: 2 } });
    await s.ingestor.flush();
    await s.stop();
    // A new server over the same warehouse rebuilds its event_id index from the Parquet files.
    const again = await startServer({ warehouse: s.warehouse });
    expect(await postJson(`${again.url}/ingest/orders`, [a])).toEqual({
      status: 200,
      body: { committed: 1 },
    });
    await again.ingestor.flush();
    expect(
      (await runQuery(s.warehouse, 'SELECT SUM(total_amount) AS s, COUNT(*) AS n FROM orders')).rows,
    ).toEqual([{ s: 3, n: 2 }]);
  });

  it('takes many parallel requests to one table: every row, valid metadata', async () => {
    // Small roll size: commits happen while requests are still arriving.
    const s = await startServer({ rollRecords: 7, rollIntervalMs: 20 });
    const url = `${s.url}/ingest/orders`;
    const batches = Array.from({ length: 40 }, (_, i) =>
      Array.from({ length: 5 }, (_, j) =>
        order(i % 2 ? TENANT_A : TENANT_B, `2026-0${1 + (j % 2)}-1${j}T10:00:00Z`, i + 1, null),
      ),
    );
    const answers = await Promise.all(batches.map((b) => postJson(url, b)));
    expect(answers.every((a) => a.status === 200 && a.body.committed === 5)).toBe(true);
    await s.ingestor.flush();
    const paths = tablePaths(s.warehouse, 'lakehouse', 'orders');
    const loaded = (await loadTable(paths))!;
    const md = loaded.metadata;
    // Metadata versions are contiguous and the current snapshot counts every row.
    const versions = (await readdir(paths.metadataDir)).filter((f) => /^v\d+\.metadata\.json$/.test(f));
    expect(versions.length).toBe(loaded.version);
    expect(Number(md.snapshots.at(-1)!.summary['total-records'])).toBe(200);
    expect(new Set(md.snapshots.map((x) => x['sequence-number'])).size).toBe(md.snapshots.length);
    const { files } = await liveDataFiles(md);
    expect(files.reduce((n, f) => n + f.recordCount, 0)).toBe(200);
    expect((await runQuery(s.warehouse, 'SELECT COUNT(DISTINCT event_id) AS n FROM orders')).rows).toEqual([
      { n: 200 },
    ]);
    const realFetch = globalThis.fetch;
    globalThis.fetch = fileFetch(realFetch);
    try {
      expect((await icebergRead({ tableUrl: paths.location })).length).toBe(200);
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
