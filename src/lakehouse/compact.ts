import { DuckDBInstance } from '@duckdb/node-api';
import { commitSnapshot } from './commitSnapshot.js';
import { liveDataFiles } from './manifests.js';
import { fromFileUri } from './paths.js';
import { currentFields, defaultSpec, loadTable } from './tableMetadata.js';
import { sqlString } from './tableSchema.js';
import type { LiveDataFile } from './types.js';
import { allTables, type WarehouseTable } from './warehouseCatalog.js';
import { type TableGate, withWriteAccess } from './writeAccess.js';
import { writeDataFiles } from './writeDataFiles.js';

export interface CompactOptions {
  warehouse: string;
  /** Only this table (name); default every table. */
  table?: string;
  /** Files smaller than this are rewritten. Default 64 MiB. */
  smallFileBytes?: number;
  /** Only partitions with at least this many small files are rewritten. Default 2. */
  minFiles?: number;
}

export interface CompactResult {
  table: string;
  partitionsRewritten: number;
  filesRemoved: number;
  filesAdded: number;
  snapshotId?: number;
}

/**
 * Rewrites the small files of each partition (two or more) into one file per partition, in one
 * `replace` snapshot per table: the rows are unchanged, the old files stay on disk (older
 * snapshots still reference them) until snapshot expiration removes what nothing references.
 * It needs the right to write the warehouse: it takes the warehouse lock, or runs through the
 * server (or the ingestor of this process) holding it, between two of its commits.
 */
export function compact(options: CompactOptions): Promise<CompactResult[]> {
  const { warehouse, table, smallFileBytes, minFiles } = options;
  return withWriteAccess(warehouse, 'compact', (gate) => compactTables(options, gate), {
    table,
    smallFileBytes,
    minFiles,
  });
}

async function compactTables(options: CompactOptions, gate: TableGate): Promise<CompactResult[]> {
  const small = options.smallFileBytes ?? 64 * 1024 * 1024;
  const results: CompactResult[] = [];
  const duck = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  try {
    for (const t of await allTables(options.warehouse, options.table || undefined)) {
      results.push(
        await gate(t.table, () => compactTable(duck, t, small, Math.max(2, options.minFiles ?? 2))),
      );
    }
  } finally {
    duck.closeSync();
  }
  return results;
}

async function compactTable(
  duck: DuckDBInstance,
  t: WarehouseTable,
  small: number,
  minFiles: number,
): Promise<CompactResult> {
  const { paths } = t;
  const base = (await loadTable(paths)) ?? t.loaded;
  const md = base.metadata;
  const fields = currentFields(md);
  const spec = defaultSpec(md);
  const { files } = await liveDataFiles(md);
  const groups = new Map<string, LiveDataFile[]>();
  for (const f of files) {
    if (f.fileSizeInBytes >= small) continue;
    const key = JSON.stringify(f.partition);
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const rewrite = [...groups.values()].filter((g) => g.length >= minFiles);
  const result: CompactResult = {
    table: `${t.namespace}.${t.table}`,
    partitionsRewritten: 0,
    filesRemoved: 0,
    filesAdded: 0,
  };
  if (rewrite.length === 0) return result;
  const conn = await duck.connect();
  const removed = new Set<string>();
  const added: Awaited<ReturnType<typeof writeDataFiles>> = [];
  try {
    await conn.run("SET TimeZone = 'UTC'");
    for (const group of rewrite) {
      const list = group.map((f) => sqlString(fromFileUri(f.path))).join(', ');
      added.push(
        ...(await writeDataFiles(conn, {
          relation: `SELECT * FROM read_parquet([${list}], union_by_name = true, hive_partitioning = false)`,
          dataDir: paths.dataDir,
          fields,
          spec,
        })),
      );
      for (const f of group) removed.add(f.path);
    }
  } finally {
    conn.closeSync();
  }
  const before = files.filter((f) => removed.has(f.path)).reduce((n, f) => n + f.recordCount, 0);
  const after = added.reduce((n, f) => n + f.recordCount, 0);
  if (before !== after)
    throw new Error(`compaction of ${t.table} would change the row count (${before} → ${after})`);
  const done = await commitSnapshot(paths, base, {
    operation: 'replace',
    keepManifests: [],
    entries: [
      ...files.map((file) => ({
        status: removed.has(file.path) ? (2 as const) : (0 as const),
        snapshotId: file.snapshotId,
        sequenceNumber: file.sequenceNumber,
        fileSequenceNumber: file.fileSequenceNumber,
        file,
      })),
      ...added.map((file) => ({ status: 1 as const, file })),
    ],
  });
  if (!done)
    throw new Error(`table ${t.table} changed during compaction; nothing was committed, run it again`);
  return {
    ...result,
    partitionsRewritten: rewrite.length,
    filesRemoved: removed.size,
    filesAdded: added.length,
    snapshotId: done.metadata['current-snapshot-id'],
  };
}
