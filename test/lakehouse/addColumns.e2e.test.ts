import { readFile } from 'node:fs/promises';
import { icebergRead } from 'icebird';
import { afterEach, describe, expect, it } from 'vitest';
import { addColumns } from '../../src/lakehouse/addColumns.js';
import { tablePaths } from '../../src/lakehouse/paths.js';
import { runQuery } from '../../src/lakehouse/query.js';
import { loadTable } from '../../src/lakehouse/tableMetadata.js';
import type { TableMetadata } from '../../src/lakehouse/types.js';
import { ordersPipeline } from '../../src/pipelines/definitions.js';
import {
  fileFetch,
  order,
  PIPELINES,
  postJson,
  startServer,
  stopAll,
  TENANT_A,
  TENANT_B,
} from './support.js';

const realFetch = globalThis.fetch;
afterEach(async () => {
  globalThis.fetch = realFetch;
  await stopAll();
});

/** The orders pipeline with a transform that also fills the new `channel` column. */
const withChannel = PIPELINES.map((p) =>
  p === ordersPipeline
    ? {
        ...p,
        transform: p.transform.replace(
          '\nFROM source AS event',
          ",\n  'web' AS channel\nFROM source AS event",
        ),
      }
    : p,
);

async function ingest(server: Awaited<ReturnType<typeof startServer>>, records: object[]) {
  const r = await postJson(`${server.url}/ingest/orders`, records);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  await server.ingestor.flush();
}

describe('local Iceberg schema evolution: addColumns', () => {
  it('adds an optional column as a new current schema; rows written before read it as null, rows after carry it', async () => {
    const first = await startServer();
    const warehouse = first.warehouse;
    await ingest(first, [
      order(TENANT_A, '2026-01-03T10:00:00Z', 100, 'c1'),
      order(TENANT_A, '2026-01-04T10:00:00Z', 5, null),
    ]);
    await first.stop();

    const paths = tablePaths(warehouse, 'lakehouse', 'orders');
    const before = (await loadTable(paths))!.metadata;
    const { added } = await addColumns(paths, [{ name: 'channel', type: 'string' }]);
    expect(added).toEqual(['channel']);
    const after = (await loadTable(paths))!.metadata;
    expect(after.schemas).toHaveLength(2);
    expect(after['current-schema-id']).toBe(1);
    expect(after['last-column-id']).toBe(before['last-column-id'] + 1);
    expect(after.schemas[1]!.fields.at(-1)).toEqual({
      id: before['last-column-id'] + 1,
      name: 'channel',
      required: false,
      type: 'string',
    });
    expect(after['current-snapshot-id']).toBe(before['current-snapshot-id']);

    // Only old files match tenant A: the new column still reads as null.
    const old = await runQuery(
      warehouse,
      `SELECT order_id, channel FROM orders WHERE tenant_id = '${TENANT_A}' ORDER BY order_id`,
    );
    expect(old.rows.map((r) => r.channel)).toEqual([null, null]);

    const second = await startServer({ warehouse, pipelines: withChannel });
    await ingest(second, [order(TENANT_B, '2026-02-05T08:00:00Z', 7, 'b1')]);
    const all = await runQuery(
      warehouse,
      'SELECT tenant_id, channel FROM orders ORDER BY tenant_id, order_id',
    );
    expect(all.rows).toEqual([
      { tenant_id: TENANT_A, channel: null },
      { tenant_id: TENANT_A, channel: null },
      { tenant_id: TENANT_B, channel: 'web' },
    ]);

    globalThis.fetch = fileFetch(realFetch);
    const md = JSON.parse(
      await readFile(new URL((await loadTable(paths))!.metadataLocation), 'utf8'),
    ) as TableMetadata;
    const rows = await icebergRead({ tableUrl: paths.location, metadata: md as never });
    expect(rows.map((r) => (r as { channel?: unknown }).channel ?? null).sort()).toEqual(
      [null, null, 'web'].sort(),
    );
  });

  it('is idempotent, and refuses a type change of an existing column', async () => {
    const server = await startServer();
    await ingest(server, [order(TENANT_A, '2026-01-03T10:00:00Z', 1, 'c1')]);
    await server.stop();
    const paths = tablePaths(server.warehouse, 'lakehouse', 'orders');
    await addColumns(paths, [{ name: 'channel', type: 'string' }]);
    const again = await addColumns(paths, [{ name: 'channel', type: 'string' }]);
    expect(again.added).toEqual([]);
    expect((await loadTable(paths))!.metadata.schemas).toHaveLength(2);
    await expect(addColumns(paths, [{ name: 'total_amount', type: 'string' }])).rejects.toThrow(
      'table lakehouse.orders: column "total_amount" exists as decimal(18, 4); changing it to string is a breaking change',
    );
  });
});
