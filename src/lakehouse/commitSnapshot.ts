import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { type ManifestEntry, type ManifestFile, writeManifest, writeManifestList } from './manifests.js';
import { type TablePaths, toFileUri } from './paths.js';
import {
  commitMetadata,
  currentFields,
  defaultSpec,
  type LoadedTable,
  loadTable,
  newSnapshotId,
} from './tableMetadata.js';
import type { Snapshot, TableMetadata } from './types.js';

export interface SnapshotChange {
  operation: Snapshot['summary']['operation'];
  /** Manifests of the parent snapshot to carry over unchanged. */
  keepManifests: ManifestFile[];
  /** Entries of the one new manifest (added, and for rewrites existing/deleted ones). */
  entries: (Omit<ManifestEntry, 'snapshotId' | 'sequenceNumber' | 'fileSequenceNumber'> &
    Partial<Pick<ManifestEntry, 'snapshotId' | 'sequenceNumber' | 'fileSequenceNumber'>>)[];
  /** Extra summary entries (e.g. the staging segment folded in). */
  summary?: Record<string, string>;
  /** Table properties to set in the same commit. */
  properties?: Record<string, string>;
}

const sumOf = (s: Snapshot | undefined, k: string) => Number(s?.summary[k] ?? 0);

/**
 * Writes a new snapshot on top of `base`: one manifest for `change.entries`, a manifest list
 * with the kept manifests plus it, and metadata `v(N+1)`. Returns undefined when another
 * writer committed first (nothing visible changed; the written Avro files are unreferenced).
 */
export async function commitSnapshot(
  paths: TablePaths,
  base: LoadedTable,
  change: SnapshotChange,
): Promise<LoadedTable | undefined> {
  const md = base.metadata;
  const snapshotId = newSnapshotId();
  const sequenceNumber = md['last-sequence-number'] + 1;
  const parent = md.snapshots.find((s) => s['snapshot-id'] === md['current-snapshot-id']);
  const spec = defaultSpec(md);
  const fields = currentFields(md);
  const commitId = randomUUID();
  const manifests = [...change.keepManifests];
  const entries: ManifestEntry[] = change.entries.map((e) => ({
    ...e,
    snapshotId: e.status === 0 ? e.snapshotId! : snapshotId,
    sequenceNumber: e.status === 1 ? sequenceNumber : e.sequenceNumber!,
    fileSequenceNumber: e.status === 1 ? sequenceNumber : e.fileSequenceNumber!,
  }));
  if (entries.length > 0) {
    manifests.unshift(
      await writeManifest({
        path: toFileUri(join(paths.metadataDir, `${commitId}-m0.avro`)),
        metadata: md,
        spec,
        fields,
        snapshotId,
        sequenceNumber,
        entries,
      }),
    );
  }
  const manifestList = toFileUri(join(paths.metadataDir, `snap-${snapshotId}-1-${commitId}.avro`));
  await writeManifestList({
    path: manifestList,
    snapshotId,
    parentSnapshotId: parent?.['snapshot-id'],
    sequenceNumber,
    manifests,
  });

  const added = entries.filter((e) => e.status === 1);
  const deleted = entries.filter((e) => e.status === 2);
  const addedRows = added.reduce((n, e) => n + e.file.recordCount, 0);
  const deletedRows = deleted.reduce((n, e) => n + e.file.recordCount, 0);
  const addedBytes = added.reduce((n, e) => n + e.file.fileSizeInBytes, 0);
  const deletedBytes = deleted.reduce((n, e) => n + e.file.fileSizeInBytes, 0);
  const partitions = new Set(added.map((e) => JSON.stringify(e.file.partition)));
  const summary: Snapshot['summary'] = {
    operation: change.operation,
    'added-data-files': String(added.length),
    'added-records': String(addedRows),
    'added-files-size': String(addedBytes),
    'changed-partition-count': String(partitions.size),
    ...(deleted.length > 0
      ? {
          'deleted-data-files': String(deleted.length),
          'deleted-records': String(deletedRows),
          'removed-files-size': String(deletedBytes),
        }
      : {}),
    'total-data-files': String(sumOf(parent, 'total-data-files') + added.length - deleted.length),
    'total-records': String(sumOf(parent, 'total-records') + addedRows - deletedRows),
    'total-files-size': String(sumOf(parent, 'total-files-size') + addedBytes - deletedBytes),
    'total-delete-files': '0',
    'total-position-deletes': '0',
    'total-equality-deletes': '0',
    ...change.summary,
  };
  const now = Date.now();
  const snapshot: Snapshot = {
    'snapshot-id': snapshotId,
    ...(parent ? { 'parent-snapshot-id': parent['snapshot-id'] } : {}),
    'sequence-number': sequenceNumber,
    'timestamp-ms': now,
    'manifest-list': manifestList,
    summary,
    'schema-id': md['current-schema-id'],
  };
  const next: TableMetadata = {
    ...md,
    'last-sequence-number': sequenceNumber,
    'current-snapshot-id': snapshotId,
    snapshots: [...md.snapshots, snapshot],
    refs: { ...md.refs, main: { 'snapshot-id': snapshotId, type: 'branch' } },
    'snapshot-log': [...md['snapshot-log'], { 'timestamp-ms': now, 'snapshot-id': snapshotId }],
    properties: { ...md.properties, ...change.properties },
  };
  return commitMetadata(paths, base, next);
}

/**
 * Commits with retries: `plan` is called with the latest metadata each time, so a commit
 * that lost the race to another process is rebuilt on top of the winner.
 */
export async function commitWithRetry(
  paths: TablePaths,
  plan: (base: LoadedTable) => Promise<SnapshotChange | undefined>,
  attempts = 5,
): Promise<LoadedTable | undefined> {
  for (let i = 0; i < attempts; i++) {
    const base = await loadTable(paths);
    if (!base) throw new Error(`table ${paths.namespace}.${paths.table} does not exist`);
    const change = await plan(base);
    if (!change) return base;
    const done = await commitSnapshot(paths, base, change);
    if (done) return done;
  }
  throw new Error(`table ${paths.namespace}.${paths.table}: gave up committing after ${attempts} conflicts`);
}
