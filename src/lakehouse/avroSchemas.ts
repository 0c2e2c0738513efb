import type { IcebergField, PartitionSpec } from './types.js';

/**
 * Avro schemas of Iceberg v2 manifests and manifest lists, with the field ids of the spec.
 * They are handed to avsc as raw objects: given a parsed `avro.Type`, avsc's BlockEncoder
 * drops every `field-id` attribute from the file header and readers mis-map the columns.
 */
const opt = (type: unknown) => ['null', type];

const intMap = (name: string, keyId: number, valueId: number, valueType: unknown) => ({
  type: 'array',
  logicalType: 'map',
  items: {
    type: 'record',
    name,
    fields: [
      { name: 'key', type: 'int', 'field-id': keyId },
      { name: 'value', type: valueType, 'field-id': valueId },
    ],
  },
});

/** Avro type of a partition value of an identity partition on a column of this Iceberg type. */
function partitionAvroType(icebergType: string): unknown {
  switch (icebergType) {
    case 'long':
      return 'long';
    case 'int':
      return 'int';
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'boolean':
      return 'boolean';
    case 'double':
      return 'double';
    case 'string':
      return 'string';
    default:
      throw new Error(`identity partitions on ${icebergType} columns are not supported`);
  }
}

export function partitionRecordSchema(spec: PartitionSpec, fields: IcebergField[]): Record<string, unknown> {
  return {
    type: 'record',
    name: 'r102',
    fields: spec.fields.map((p) => ({
      name: p.name,
      type: opt(partitionAvroType(fields.find((f) => f.id === p['source-id'])?.type ?? 'string')),
      default: null,
      'field-id': p['field-id'],
    })),
  };
}

/** The `manifest_entry` schema (spec v2) for one partition spec. */
export function manifestEntrySchema(spec: PartitionSpec, fields: IcebergField[]): Record<string, unknown> {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: opt('long'), default: null, 'field-id': 1 },
      { name: 'sequence_number', type: opt('long'), default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: opt('long'), default: null, 'field-id': 4 },
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', 'field-id': 134 },
            { name: 'file_path', type: 'string', 'field-id': 100 },
            { name: 'file_format', type: 'string', 'field-id': 101 },
            { name: 'partition', type: partitionRecordSchema(spec, fields), 'field-id': 102 },
            { name: 'record_count', type: 'long', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
            {
              name: 'column_sizes',
              type: opt(intMap('k117_v118', 117, 118, 'long')),
              default: null,
              'field-id': 108,
            },
            {
              name: 'value_counts',
              type: opt(intMap('k119_v120', 119, 120, 'long')),
              default: null,
              'field-id': 109,
            },
            {
              name: 'null_value_counts',
              type: opt(intMap('k121_v122', 121, 122, 'long')),
              default: null,
              'field-id': 110,
            },
            {
              name: 'nan_value_counts',
              type: opt(intMap('k138_v139', 138, 139, 'long')),
              default: null,
              'field-id': 137,
            },
            {
              name: 'lower_bounds',
              type: opt(intMap('k126_v127', 126, 127, 'bytes')),
              default: null,
              'field-id': 125,
            },
            {
              name: 'upper_bounds',
              type: opt(intMap('k129_v130', 129, 130, 'bytes')),
              default: null,
              'field-id': 128,
            },
            { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 131 },
            {
              name: 'split_offsets',
              type: opt({ type: 'array', items: 'long', 'element-id': 133 }),
              default: null,
              'field-id': 132,
            },
            {
              name: 'equality_ids',
              type: opt({ type: 'array', items: 'int', 'element-id': 136 }),
              default: null,
              'field-id': 135,
            },
            { name: 'sort_order_id', type: opt('int'), default: null, 'field-id': 140 },
          ],
        },
      },
    ],
  };
}

/** The `manifest_file` schema (spec v2): one entry of a manifest list. */
export const MANIFEST_FILE_SCHEMA = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    {
      name: 'partitions',
      type: opt({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            { name: 'contains_nan', type: opt('boolean'), default: null, 'field-id': 518 },
            { name: 'lower_bound', type: opt('bytes'), default: null, 'field-id': 510 },
            { name: 'upper_bound', type: opt('bytes'), default: null, 'field-id': 511 },
          ],
        },
      }),
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 519 },
  ],
} as const;
