import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { liveDataFiles, writeManifest } from '../../src/lakehouse/manifests.js';
import { tablePaths, toFileUri } from '../../src/lakehouse/paths.js';
import { loadTable } from '../../src/lakehouse/tableMetadata.js';
import { order, postJson, startServer, stopAll, TENANT_A, TENANT_B } from './support.js';

afterEach(async () => {
  await stopAll();
});

/** A server whose warehouse has an `orders` table with one file for each of two tenants. */
async function serverWithOrders() {
  const s = await startServer();
  const recs = [
    order(TENANT_A, '2026-02-01T10:00:00Z', 1, null),
    order(TENANT_B, '2026-02-01T10:00:00Z', 2, null),
  ];
  expect((await postJson(`${s.url}/ingest/orders`, recs)).status).toBe(200);
  await s.ingestor.flush();
  return s;
}

describe('the REST catalog, as the Iceberg spec has it', () => {
  it('answers HEAD on an existing namespace or table with 204 and no body, and 404 on a missing one', async () => {
    const s = await serverWithOrders();
    const head = (path: string) => fetch(`${s.url}/catalog/v1${path}`, { method: 'HEAD' });
    for (const path of ['/namespaces/lakehouse', '/namespaces/lakehouse/tables/orders']) {
      const res = await head(path);
      expect(res.status, path).toBe(204);
      expect(await res.text(), path).toBe('');
    }
    expect((await head('/namespaces/lakehouse/tables/nope')).status).toBe(404);
    expect((await head('/namespaces/nope')).status).toBe(404);
  });

  it('answers an unexpected failure (an unreadable metadata file) with 500 in the Iceberg error JSON', async () => {
    const s = await serverWithOrders();
    const paths = tablePaths(s.warehouse, 'lakehouse', 'orders');
    const version = (await loadTable(paths))!.version;
    await writeFile(join(paths.metadataDir, `v${version + 1}.metadata.json`), '{ not json');
    const res = await fetch(`${s.url}/catalog/v1/namespaces/lakehouse/tables/orders`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { error: { message: string; type: string; code: number } };
    expect(body).toEqual({
      error: { message: expect.stringContaining('JSON'), type: 'InternalServerError', code: 500 },
    });
  });
});

describe('manifest-list partition summaries', () => {
  it('cover deleted entries too, as Java Iceberg writes them', async () => {
    const s = await serverWithOrders();
    const paths = tablePaths(s.warehouse, 'lakehouse', 'orders');
    const { metadata } = (await loadTable(paths))!;
    const { files } = await liveDataFiles(metadata);
    const a = files.find((f) => f.partition.tenant_id === TENANT_A)!;
    const b = files.find((f) => f.partition.tenant_id === TENANT_B)!;
    const spec = metadata['partition-specs'][0]!;
    const fields = metadata.schemas[0]!.fields;
    // A manifest whose only live entry is tenant A's, with tenant B's file deleted.
    const summary = await writeManifest({
      path: toFileUri(join(paths.metadataDir, 'summary-test-m0.avro')),
      metadata,
      spec,
      fields,
      snapshotId: 1,
      sequenceNumber: 9,
      entries: [
        { status: 1, snapshotId: 1, sequenceNumber: 9, fileSequenceNumber: 9, file: a },
        { status: 2, snapshotId: 1, sequenceNumber: b.sequenceNumber, fileSequenceNumber: 1, file: b },
      ],
    });
    const tenant = summary.partitions![spec.fields.findIndex((f) => f.name === 'tenant_id')]!;
    const bounds = [String(tenant.lower_bound), String(tenant.upper_bound)];
    expect(bounds).toEqual([TENANT_A, TENANT_B].sort());
    expect(summary.deleted_files_count).toBe(1);
    // The manifest file itself was written where the path says.
    expect((await readFile(join(paths.metadataDir, 'summary-test-m0.avro'))).length).toBe(
      summary.manifest_length,
    );
  });
});
