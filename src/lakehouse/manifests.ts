import { readFile } from 'node:fs/promises';
import avro from 'avsc';
import { MANIFEST_FILE_SCHEMA, manifestEntrySchema } from './avroSchemas.js';
import { writeFileDurable } from './fsutil.js';
import { fromFileUri } from './paths.js';
import { serializeValue } from './singleValue.js';
import type { DataFile, IcebergField, LiveDataFile, PartitionSpec, TableMetadata } from './types.js';

/** Manifest entry status: 0 existing, 1 added, 2 deleted. */
export type EntryStatus = 0 | 1 | 2;

export interface ManifestEntry {
  status: EntryStatus;
  snapshotId: number;
  sequenceNumber: number;
  fileSequenceNumber: number;
  file: DataFile;
}

/** One entry of a manifest list. */
export interface ManifestFile {
  manifest_path: string;
  manifest_length: number;
  partition_spec_id: number;
  content: number;
  sequence_number: number;
  min_sequence_number: number;
  added_snapshot_id: number;
  added_files_count: number;
  existing_files_count: number;
  deleted_files_count: number;
  added_rows_count: number;
  existing_rows_count: number;
  deleted_rows_count: number;
  partitions:
    | {
        contains_null: boolean;
        contains_nan: boolean | null;
        lower_bound: Buffer | null;
        upper_bound: Buffer | null;
      }[]
    | null;
  key_metadata: Buffer | null;
}

async function encodeAvro(
  schema: object,
  metadata: Record<string, string>,
  records: unknown[],
): Promise<Buffer> {
  const meta: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v, 'utf8');
  // The raw schema object, not avro.Type: see avroSchemas.ts.
  // avsc's typings lack `metadata`, which its BlockEncoder does support.
  const encoderOptions = { codec: 'deflate', metadata: meta } as unknown as ConstructorParameters<
    typeof avro.streams.BlockEncoder
  >[1];
  const encoder = new avro.streams.BlockEncoder(schema as avro.Schema, encoderOptions);
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    encoder.on('data', (c: Buffer) => chunks.push(c));
    encoder.on('end', () => resolve());
    encoder.on('error', reject);
  });
  for (const r of records) encoder.write(r);
  encoder.end();
  await done;
  return Buffer.concat(chunks);
}

const mapEntries = <V>(m: Map<number, V> | undefined) =>
  m && m.size > 0 ? [...m].map(([key, value]) => ({ key, value })) : null;

function partitionValueOut(type: string | undefined, v: string | number | null): string | number | null {
  if (v === null) return null;
  if (type === 'date' && typeof v === 'string') return Math.round(Date.parse(`${v}T00:00:00Z`) / 86_400_000);
  return v;
}

/** Writes one manifest (Avro) and returns its manifest-list entry. */
export async function writeManifest(opts: {
  path: string;
  metadata: TableMetadata;
  spec: PartitionSpec;
  fields: IcebergField[];
  snapshotId: number;
  sequenceNumber: number;
  entries: ManifestEntry[];
}): Promise<ManifestFile> {
  const { spec, fields, metadata } = opts;
  const schema = manifestEntrySchema(spec, fields);
  const typeOfPartition = (name: string) =>
    fields.find((f) => f.id === spec.fields.find((p) => p.name === name)?.['source-id'])?.type;
  const records = opts.entries.map((e) => ({
    status: e.status,
    snapshot_id: e.snapshotId,
    sequence_number: e.sequenceNumber,
    file_sequence_number: e.fileSequenceNumber,
    data_file: {
      content: 0,
      file_path: e.file.path,
      file_format: 'PARQUET',
      partition: Object.fromEntries(
        spec.fields.map((p) => [
          p.name,
          partitionValueOut(typeOfPartition(p.name), e.file.partition[p.name] ?? null),
        ]),
      ),
      record_count: e.file.recordCount,
      file_size_in_bytes: e.file.fileSizeInBytes,
      column_sizes: mapEntries(e.file.columnSizes),
      value_counts: mapEntries(e.file.valueCounts),
      null_value_counts: mapEntries(e.file.nullValueCounts),
      nan_value_counts: null,
      lower_bounds: mapEntries(e.file.lowerBounds),
      upper_bounds: mapEntries(e.file.upperBounds),
      key_metadata: null,
      split_offsets: null,
      equality_ids: null,
      sort_order_id: 0,
    },
  }));
  const schemaJson = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  const bytes = await encodeAvro(
    schema,
    {
      schema: JSON.stringify(schemaJson),
      'schema-id': String(metadata['current-schema-id']),
      'partition-spec': JSON.stringify(spec.fields),
      'partition-spec-id': String(spec['spec-id']),
      'format-version': '2',
      content: 'data',
    },
    records,
  );
  await writeFileDurable(fromFileUri(opts.path), bytes);

  const count = (s: EntryStatus) => opts.entries.filter((e) => e.status === s);
  const rows = (s: EntryStatus) => count(s).reduce((n, e) => n + e.file.recordCount, 0);
  const live = opts.entries.filter((e) => e.status !== 2);
  return {
    manifest_path: opts.path,
    manifest_length: bytes.length,
    partition_spec_id: spec['spec-id'],
    content: 0,
    sequence_number: opts.sequenceNumber,
    min_sequence_number: Math.min(opts.sequenceNumber, ...live.map((e) => e.sequenceNumber)),
    added_snapshot_id: opts.snapshotId,
    added_files_count: count(1).length,
    existing_files_count: count(0).length,
    deleted_files_count: count(2).length,
    added_rows_count: rows(1),
    existing_rows_count: rows(0),
    deleted_rows_count: rows(2),
    // Over every entry, deleted ones too (as Java Iceberg writes them): readers of changes
    // (incremental scans) prune manifests by these bounds and must not skip a deletion.
    partitions: spec.fields.map((p) =>
      partitionSummary(typeOfPartition(p.name) ?? 'string', p.name, opts.entries),
    ),
    key_metadata: null,
  };
}

function partitionSummary(type: string, name: string, entries: ManifestEntry[]) {
  const values = entries.map((e) => e.file.partition[name] ?? null);
  const present = values.filter((v): v is string | number => v !== null);
  const cmp = (a: string | number, b: string | number) =>
    typeof a === 'number' && typeof b === 'number'
      ? a - b
      : Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
  present.sort(cmp);
  const lo = present[0];
  const hi = present[present.length - 1];
  return {
    contains_null: values.some((v) => v === null),
    contains_nan: type === 'double' ? false : null,
    lower_bound: lo === undefined ? null : (serializeValue(type, lo) ?? null),
    upper_bound: hi === undefined ? null : (serializeValue(type, hi) ?? null),
  };
}

/** Writes a manifest list (Avro). */
export async function writeManifestList(opts: {
  path: string;
  snapshotId: number;
  parentSnapshotId: number | undefined;
  sequenceNumber: number;
  manifests: ManifestFile[];
}): Promise<void> {
  const bytes = await encodeAvro(
    MANIFEST_FILE_SCHEMA,
    {
      'snapshot-id': String(opts.snapshotId),
      'parent-snapshot-id': opts.parentSnapshotId === undefined ? 'null' : String(opts.parentSnapshotId),
      'sequence-number': String(opts.sequenceNumber),
      'format-version': '2',
    },
    opts.manifests,
  );
  await writeFileDurable(fromFileUri(opts.path), bytes);
}

async function decodeAvro<T>(uri: string): Promise<T[]> {
  const buf = await readFile(fromFileUri(uri));
  const records: T[] = [];
  const decoder = new avro.streams.BlockDecoder();
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('data', (r: T) => records.push(r));
    decoder.on('end', () => resolve());
    decoder.on('error', reject);
  });
  decoder.end(buf);
  await done;
  return records;
}

export const readManifestList = (uri: string): Promise<ManifestFile[]> => decodeAvro<ManifestFile>(uri);

interface RawEntry {
  status: EntryStatus;
  snapshot_id: number | null;
  sequence_number: number | null;
  file_sequence_number: number | null;
  data_file: {
    file_path: string;
    partition: Record<string, string | number | null>;
    record_count: number;
    file_size_in_bytes: number;
    column_sizes: { key: number; value: number }[] | null;
    value_counts: { key: number; value: number }[] | null;
    null_value_counts: { key: number; value: number }[] | null;
    lower_bounds: { key: number; value: Buffer }[] | null;
    upper_bounds: { key: number; value: Buffer }[] | null;
  };
}

const toMap = <V>(list: { key: number; value: V }[] | null) =>
  list ? new Map(list.map((e) => [e.key, e.value])) : undefined;

/**
 * The live data files of the table's current snapshot, read from its manifest list and
 * manifests (never from a directory listing). Partition values of `date` fields come back
 * as `YYYY-MM-DD`.
 */
export async function liveDataFiles(metadata: TableMetadata, snapshotId = metadata['current-snapshot-id']) {
  const snap = metadata.snapshots.find((s) => s['snapshot-id'] === snapshotId);
  if (!snap) return { files: [] as LiveDataFile[], manifests: [] as ManifestFile[] };
  const manifests = await readManifestList(snap['manifest-list']);
  const files: LiveDataFile[] = [];
  for (const m of manifests) {
    if (m.content !== 0) continue;
    const spec = metadata['partition-specs'].find((s) => s['spec-id'] === m.partition_spec_id);
    const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
    const dateFields = new Set(
      (spec?.fields ?? [])
        .filter((p) => schema?.fields.find((f) => f.id === p['source-id'])?.type === 'date')
        .map((p) => p.name),
    );
    for (const e of await decodeAvro<RawEntry>(m.manifest_path)) {
      if (e.status === 2) continue;
      const partition: Record<string, string | number | null> = {};
      for (const [k, v] of Object.entries(e.data_file.partition)) {
        partition[k] =
          dateFields.has(k) && typeof v === 'number'
            ? new Date(v * 86_400_000).toISOString().slice(0, 10)
            : v;
      }
      files.push({
        path: e.data_file.file_path,
        partition,
        recordCount: e.data_file.record_count,
        fileSizeInBytes: e.data_file.file_size_in_bytes,
        columnSizes: toMap(e.data_file.column_sizes),
        valueCounts: toMap(e.data_file.value_counts),
        nullValueCounts: toMap(e.data_file.null_value_counts),
        lowerBounds: toMap(e.data_file.lower_bounds),
        upperBounds: toMap(e.data_file.upper_bounds),
        // v2 inheritance: null ids and sequence numbers inherit from the manifest's snapshot.
        snapshotId: e.snapshot_id ?? m.added_snapshot_id,
        sequenceNumber: e.sequence_number ?? m.sequence_number,
        fileSequenceNumber: e.file_sequence_number ?? m.sequence_number,
        manifestPath: m.manifest_path,
      });
    }
  }
  return { files, manifests };
}
