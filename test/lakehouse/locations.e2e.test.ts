import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * Iceberg locations are written as raw absolute paths: Java Iceberg, PyIceberg and DuckDB
 * do not percent-decode them. Tables written by earlier versions, with percent-encoded
 * locations, still read.
 */

// A space and a non-ASCII letter in the warehouse path, and a tenant whose `:` DuckDB
// escapes as `%3A` in the partition directory name.
const oddWarehouse = async () => join(await mkdtemp(join(tmpdir(), 'lake loc é-')), 'warehouse');
const TENANT = 'shop:eu';

const records = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    event_id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
    event_type: 'order.placed',
    order_id: `o${i}`,
    tenant_id: i % 2 === 0 ? TENANT : 'acme',
    site_id: 's1',
    customer_id: null,
    total_amount: 10 + i,
    currency: 'EUR',
    status: 'placed',
    payment_method: null,
    item_count: 1,
    created_at: `2026-0${1 + (i % 2)}-15T10:00:00Z`,
  }));

/** Writes `n` orders into a fresh warehouse with the server module as currently loaded. */
async function writeOrders(warehouse: string, n: number) {
  const { createLakehouseServer } = await import('../../src/lakehouse/server.js');
  const { pipelines } = await import('../../src/pipelines/definitions.js');
  const server = createLakehouseServer({
    warehouse,
    pipelines: Object.values(pipelines),
    port: 0,
    rollIntervalMs: 60_000,
    onError: (e, what) => {
      throw new Error(`${what}: ${String(e)}`);
    },
  });
  await server.start();
  try {
    const res = await fetch(`${server.url}/ingest/orders`, {
      method: 'POST',
      body: JSON.stringify(records(n)),
    });
    expect(res.status).toBe(200);
    await server.ingestor.flush();
  } finally {
    await server.stop();
  }
}

/** Every location a reader follows: table, metadata file, manifest lists, manifests, data files. */
async function allLocations(warehouse: string) {
  const { tablePaths } = await import('../../src/lakehouse/paths.js');
  const { loadTable } = await import('../../src/lakehouse/tableMetadata.js');
  const { liveDataFiles } = await import('../../src/lakehouse/manifests.js');
  const loaded = (await loadTable(tablePaths(warehouse, 'lakehouse', 'orders')))!;
  const { files, manifests } = await liveDataFiles(loaded.metadata);
  return {
    table: loaded.metadata.location,
    manifestLists: loaded.metadata.snapshots.map((s) => s['manifest-list']),
    manifests: manifests.map((m) => m.manifest_path),
    dataFiles: files.map((f) => ({ path: f.path, records: f.recordCount })),
  };
}

afterEach(() => {
  vi.doUnmock('../../src/lakehouse/paths.js');
  vi.resetModules();
});

describe('Iceberg locations', () => {
  it('are file:// plus the raw absolute path, and plain DuckDB read_parquet opens every data file as written', async () => {
    const warehouse = await oddWarehouse();
    await writeOrders(warehouse, 6);
    const loc = await allLocations(warehouse);
    const raw = `file://${warehouse}`;
    expect(loc.table).toBe(`${raw}/lakehouse/orders`);
    for (const uri of [...loc.manifestLists, ...loc.manifests])
      expect(uri.startsWith(`${raw}/lakehouse/orders/metadata/`)).toBe(true);
    expect(loc.dataFiles.some((f) => f.path.includes('/data/tenant_id=shop%3Aeu/year=2026/month=1/'))).toBe(
      true,
    );

    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      let total = 0;
      for (const f of loc.dataFiles) {
        expect(f.path.startsWith(`${raw}/lakehouse/orders/data/`)).toBe(true);
        const path = f.path.slice('file://'.length).replaceAll("'", "''");
        const r = await conn.runAndReadAll(`SELECT COUNT(*) AS n FROM read_parquet('${path}')`);
        expect(Number(r.getRows()[0]![0])).toBe(f.records);
        total += f.records;
      }
      expect(total).toBe(6);
    } finally {
      conn.closeSync();
      duck.closeSync();
    }
  });

  it('written percent-encoded by earlier versions still read: query, compact and expire-snapshots', async () => {
    const warehouse = await oddWarehouse();
    // The earlier writer: every location through pathToFileURL, read back through fileURLToPath.
    vi.doMock('../../src/lakehouse/paths.js', async (importOriginal) => {
      const real = await importOriginal<typeof import('../../src/lakehouse/paths.js')>();
      return {
        ...real,
        toFileUri: (p: string) => pathToFileURL(p).href,
        fromFileUri: (u: string) => (u.startsWith('file:') ? fileURLToPath(u) : u),
        tablePaths: (...a: Parameters<typeof real.tablePaths>) => {
          const t = real.tablePaths(...a);
          return { ...t, location: pathToFileURL(t.dir).href };
        },
      };
    });
    vi.resetModules();
    await writeOrders(warehouse, 6);
    const legacy = await allLocations(warehouse);
    expect(legacy.table).toBe(pathToFileURL(join(warehouse, 'lakehouse', 'orders')).href);
    expect(legacy.dataFiles.some((f) => f.path.includes('/tenant_id=shop%253Aeu/'))).toBe(true);

    vi.doUnmock('../../src/lakehouse/paths.js');
    vi.resetModules();
    const { runQuery } = await import('../../src/lakehouse/query.js');
    const { compact } = await import('../../src/lakehouse/compact.js');
    const { expireSnapshots } = await import('../../src/lakehouse/expireSnapshots.js');
    const sum = `SELECT tenant_id, COUNT(*) AS n, SUM(total_amount) AS s FROM orders GROUP BY tenant_id ORDER BY tenant_id`;
    const expected = [
      { tenant_id: 'acme', n: 3, s: 39 },
      { tenant_id: TENANT, n: 3, s: 36 },
    ];
    expect((await runQuery(warehouse, sum)).rows).toEqual(expected);

    // A second delivery (new, raw locations) beside the old ones, then maintenance over both.
    await writeOrders(warehouse, 8);
    const both = [
      { tenant_id: 'acme', n: 4, s: 39 + 17 },
      { tenant_id: TENANT, n: 4, s: 36 + 16 },
    ];
    expect((await runQuery(warehouse, sum)).rows).toEqual(both);
    const compacted = await compact({ warehouse, table: 'orders' });
    expect(compacted[0]!.filesRemoved).toBeGreaterThan(0);
    expect((await runQuery(warehouse, sum)).rows).toEqual(both);
    const expired = await expireSnapshots({ warehouse, table: 'orders', olderThanMs: 0, retainLast: 1 });
    expect(expired[0]!.filesDeleted).toBeGreaterThan(0);
    expect((await runQuery(warehouse, sum)).rows).toEqual(both);
  });

  it('with a literal % in a directory name are read as that name, not decoded', async () => {
    const { fromFileUri, toFileUri } = await import('../../src/lakehouse/paths.js');
    const dir = join(await mkdtemp(join(tmpdir(), 'lake loc é-')), 'tenant_id=shop%3Aeu');
    await mkdir(dir);
    const file = join(dir, 'f 1.parquet');
    await writeFile(file, 'x');
    expect(toFileUri(file)).toBe(`file://${file}`);
    expect(fromFileUri(toFileUri(file))).toBe(file);
    expect(fromFileUri(pathToFileURL(file).href)).toBe(file); // the earlier encoding
    expect(fromFileUri(`file:${file}`)).toBe(file); // Hadoop's form
  });
});
