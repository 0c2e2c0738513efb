import { randomInt, randomUUID } from 'node:crypto';
import { access, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileExclusive, writeFileAtomic } from './fsutil.js';
import { type TablePaths, toFileUri } from './paths.js';
import type { IcebergField, PartitionSpec, TableMetadata } from './types.js';

export interface LoadedTable {
  metadata: TableMetadata;
  version: number;
  /** `file://` URI of the current `vN.metadata.json`. */
  metadataLocation: string;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

export const metadataFile = (paths: TablePaths, version: number) =>
  join(paths.metadataDir, `v${version}.metadata.json`);

/**
 * The current metadata of a table, or undefined when it has none. Starts from
 * `version-hint.text` and moves forward while a newer `vN+1.metadata.json` exists: the
 * hint is written after the version, so a crash in between leaves it one behind.
 */
/** The fields of a table's current schema (`current-schema-id`). */
export function currentFields(md: TableMetadata): IcebergField[] {
  return md.schemas.find((s) => s['schema-id'] === md['current-schema-id'])!.fields;
}

/** The partition spec new data files are written with (`default-spec-id`). */
export function defaultSpec(md: TableMetadata): PartitionSpec {
  return md['partition-specs'].find((s) => s['spec-id'] === md['default-spec-id'])!;
}

export async function loadTable(paths: TablePaths): Promise<LoadedTable | undefined> {
  let version = 0;
  try {
    version = Number.parseInt(await readFile(join(paths.metadataDir, 'version-hint.text'), 'utf8'), 10) || 0;
  } catch {
    version = 0;
  }
  if (version === 0 && !(await exists(metadataFile(paths, 1)))) return undefined;
  while (await exists(metadataFile(paths, version + 1))) version++;
  const path = metadataFile(paths, version);
  const metadata = JSON.parse(await readFile(path, 'utf8')) as TableMetadata;
  return { metadata, version, metadataLocation: toFileUri(path) };
}

/** A snapshot id: random, positive and below 2^53 so it survives JSON in JavaScript. */
export const newSnapshotId = (): number => randomInt(1, 2 ** 47) * 64 + randomInt(0, 64);

/** Metadata of a new, empty table (format v2, identity partitions, unsorted). */
export function newTableMetadata(
  paths: TablePaths,
  fields: IcebergField[],
  spec: PartitionSpec,
  properties: Record<string, string>,
): TableMetadata {
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location: paths.location,
    'last-sequence-number': 0,
    'last-updated-ms': Date.now(),
    'last-column-id': fields.reduce((m, f) => Math.max(m, f.id), 0),
    'current-schema-id': 0,
    schemas: [{ type: 'struct', 'schema-id': 0, fields }],
    'default-spec-id': 0,
    'partition-specs': [spec],
    'last-partition-id': spec.fields.reduce((m, f) => Math.max(m, f['field-id']), 999),
    'default-sort-order-id': 0,
    'sort-orders': [{ 'order-id': 0, fields: [] }],
    properties: {
      'write.format.default': 'parquet',
      'write.parquet.compression-codec': 'zstd',
      'schema.name-mapping.default': JSON.stringify(
        fields.map((f) => ({ 'field-id': f.id, names: [f.name] })),
      ),
      ...properties,
    },
    'current-snapshot-id': -1,
    snapshots: [],
    refs: {},
    'snapshot-log': [],
    'metadata-log': [],
    statistics: [],
    'partition-statistics': [],
  };
}

/**
 * Writes `next` as version `base.version + 1`. Returns false when another writer committed
 * that version first (the caller reloads and retries); the in-process writer of a table is
 * serialized, so this only happens with a second process (e.g. `lakehouse compact`).
 */
export async function commitMetadata(
  paths: TablePaths,
  base: LoadedTable | undefined,
  next: TableMetadata,
): Promise<LoadedTable | undefined> {
  await mkdir(paths.metadataDir, { recursive: true });
  const version = (base?.version ?? 0) + 1;
  const now = Date.now();
  const withLog: TableMetadata = {
    ...next,
    'last-updated-ms': now,
    'metadata-log': base
      ? [
          ...base.metadata['metadata-log'],
          { 'timestamp-ms': base.metadata['last-updated-ms'], 'metadata-file': base.metadataLocation },
        ].slice(-100)
      : [],
  };
  const path = metadataFile(paths, version);
  if (!(await createFileExclusive(path, `${JSON.stringify(withLog, null, 2)}\n`))) return undefined;
  await writeFileAtomic(join(paths.metadataDir, 'version-hint.text'), String(version));
  return { metadata: withLog, version, metadataLocation: toFileUri(path) };
}
