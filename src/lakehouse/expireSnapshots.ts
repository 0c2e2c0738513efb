import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { liveDataFiles, readManifestList } from './manifests.js';
import { fromFileUri, tablePaths } from './paths.js';
import { commitMetadata, loadTable } from './tableMetadata.js';
import { allTables, type WarehouseTable } from './warehouseCatalog.js';
import { type TableGate, withWriteAccess } from './writeAccess.js';

export interface ExpireOptions {
  warehouse: string;
  table?: string;
  /** Snapshots older than this (ms) may expire. Default 30 days. */
  olderThanMs?: number;
  /** Always keep at least this many most recent snapshots. Default 5. */
  retainLast?: number;
  now?: number;
}

export interface ExpireResult {
  table: string;
  snapshotsExpired: number;
  filesDeleted: number;
}

/**
 * Drops snapshots older than `olderThanMs` beyond the last `retainLast` (never the current
 * one), commits the shorter history, then deletes the data files, manifests and manifest
 * lists that only expired snapshots referenced. A file any retained snapshot references is
 * never deleted. Deletion happens after the commit, so a crash leaves orphans, never holes.
 * Takes the warehouse lock, or runs through the server (or this process's ingestor) holding it.
 */
export function expireSnapshots(options: ExpireOptions): Promise<ExpireResult[]> {
  const { warehouse, table, olderThanMs, retainLast, now } = options;
  return withWriteAccess(warehouse, 'expire-snapshots', (gate) => expireTables(options, gate), {
    table,
    olderThanMs,
    retainLast,
    now,
  });
}

async function expireTables(options: ExpireOptions, gate: TableGate): Promise<ExpireResult[]> {
  const olderThan = options.olderThanMs ?? 30 * 86_400_000;
  const retainLast = Math.max(1, options.retainLast ?? 5);
  const now = options.now ?? Date.now();
  const results: ExpireResult[] = [];
  for (const t of await allTables(options.warehouse, options.table || undefined)) {
    results.push(await gate(t.table, () => expireTable(t, olderThan, retainLast, now)));
  }
  return results;
}

async function expireTable(
  t: WarehouseTable,
  olderThan: number,
  retainLast: number,
  now: number,
): Promise<ExpireResult> {
  const { paths } = t;
  const base = (await loadTable(paths)) ?? t.loaded;
  const md = base.metadata;
  const byAge = [...md.snapshots].sort((a, b) => b['timestamp-ms'] - a['timestamp-ms']);
  const keepIds = new Set(byAge.slice(0, retainLast).map((s) => s['snapshot-id']));
  keepIds.add(md['current-snapshot-id']);
  for (const ref of Object.values(md.refs)) keepIds.add(ref['snapshot-id']);
  const expired = md.snapshots.filter(
    (s) => !keepIds.has(s['snapshot-id']) && now - s['timestamp-ms'] > olderThan,
  );
  if (expired.length === 0)
    return { table: `${t.namespace}.${t.table}`, snapshotsExpired: 0, filesDeleted: 0 };
  const expiredIds = new Set(expired.map((s) => s['snapshot-id']));
  const retained = md.snapshots.filter((s) => !expiredIds.has(s['snapshot-id']));
  const referenced = async (snaps: typeof md.snapshots) => {
    const set = new Set<string>();
    for (const s of snaps) {
      set.add(s['manifest-list']);
      for (const m of await readManifestList(s['manifest-list'])) set.add(m.manifest_path);
      for (const f of (await liveDataFiles(md, s['snapshot-id'])).files) set.add(f.path);
    }
    return set;
  };
  const keep = await referenced(retained);
  const candidates = await referenced(expired);
  const committed = await commitMetadata(paths, base, {
    ...md,
    snapshots: retained,
    'snapshot-log': md['snapshot-log'].filter((e) => !expiredIds.has(e['snapshot-id'])),
  });
  if (!committed)
    throw new Error(`table ${t.table} changed during expiration; nothing was committed, run it again`);
  let deleted = 0;
  for (const uri of candidates) {
    if (keep.has(uri)) continue;
    await unlink(fromFileUri(uri)).then(
      () => deleted++,
      () => {},
    );
  }
  return {
    table: `${t.namespace}.${t.table}`,
    snapshotsExpired: expired.length,
    filesDeleted: deleted,
  };
}

/** Data files on disk (for tests and checks): every `.parquet` under a table's data directory. */
export async function dataFilesOnDisk(
  warehouse: string,
  namespace: string,
  table: string,
): Promise<string[]> {
  const dir = tablePaths(warehouse, namespace, table).dataDir;
  try {
    return (await readdir(dir, { recursive: true }))
      .filter((f) => f.endsWith('.parquet'))
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}
