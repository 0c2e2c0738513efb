/** Iceberg v2 table metadata, as written to `vN.metadata.json` (the subset this project writes and reads). */
export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  /** Primitive type: `string`, `long`, `int`, `double`, `boolean`, `date`, `timestamptz`, `decimal(18, 4)`... */
  type: string;
}

export interface IcebergSchema {
  type: 'struct';
  'schema-id': number;
  fields: IcebergField[];
}

export interface PartitionField {
  name: string;
  transform: 'identity';
  'source-id': number;
  'field-id': number;
}

export interface PartitionSpec {
  'spec-id': number;
  fields: PartitionField[];
}

export interface Snapshot {
  'snapshot-id': number;
  'parent-snapshot-id'?: number;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: Record<string, string> & { operation: 'append' | 'replace' | 'overwrite' | 'delete' };
  'schema-id': number;
}

export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: IcebergSchema[];
  'default-spec-id': number;
  'partition-specs': PartitionSpec[];
  'last-partition-id': number;
  'default-sort-order-id': number;
  'sort-orders': { 'order-id': number; fields: unknown[] }[];
  properties: Record<string, string>;
  'current-snapshot-id': number;
  snapshots: Snapshot[];
  refs: Record<string, { 'snapshot-id': number; type: 'branch' | 'tag' }>;
  'snapshot-log': { 'timestamp-ms': number; 'snapshot-id': number }[];
  'metadata-log': { 'timestamp-ms': number; 'metadata-file': string }[];
  statistics: unknown[];
  'partition-statistics': unknown[];
}

/** Partition value as kept in manifests: strings, numbers (long/int; date as days) or null. */
export type PartitionValue = string | number | null;

/** One Parquet data file of a table, as a manifest entry describes it. */
export interface DataFile {
  /** Absolute `file://` URI. */
  path: string;
  /** Partition values by partition field name. */
  partition: Record<string, PartitionValue>;
  recordCount: number;
  fileSizeInBytes: number;
  columnSizes?: Map<number, number>;
  valueCounts?: Map<number, number>;
  nullValueCounts?: Map<number, number>;
  lowerBounds?: Map<number, Buffer>;
  upperBounds?: Map<number, Buffer>;
}

/** A live data file of a snapshot, with the snapshot and sequence number that added it. */
export interface LiveDataFile extends DataFile {
  snapshotId: number;
  sequenceNumber: number;
  fileSequenceNumber: number;
  /** Manifest the entry was read from. */
  manifestPath: string;
}

/** Iceberg's error types for the REST catalog's JSON errors. */
export const NAMESPACE_PROPERTY = 'lakehouse.namespace';
/** Table property holding the highest staging segment id folded into the table. */
export const STAGING_WATERMARK_PROPERTY = 'lakehouse.staging.committed-segment';
/** Table property: records the pipeline's transform dropped (filtered out), over the table's life. */
export const FILTERED_RECORDS_PROPERTY = 'lakehouse.records-filtered';
