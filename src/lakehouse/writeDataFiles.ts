import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { toFileUri } from './paths.js';
import { serializeValue } from './singleValue.js';
import { duckTypeOf, sqlIdent, sqlString } from './tableSchema.js';
import type { DataFile, IcebergField, PartitionSpec, PartitionValue } from './types.js';

/**
 * The partition value of a file from DuckDB's `partition_keys`, which gives a real NULL as
 * JSON null and the string "NULL" as itself: a tenant named "NULL" is data, not SQL NULL.
 */
function partitionValue(type: string, text: string | null | undefined): PartitionValue {
  if (text === undefined || text === null) return null;
  if (type === 'long' || type === 'int') return Number(text);
  return text; // string, date (YYYY-MM-DD)
}

/**
 * Writes the rows of `relation` (a SQL query) as zstd Parquet files under `dataDir`,
 * partitioned hive-style by the spec's columns (which are also kept inside the files, as
 * Iceberg readers expect), with Iceberg field ids in the Parquet schema. Returns one
 * {@link DataFile} per file written, built from DuckDB's `RETURN_STATS`.
 */
export async function writeDataFiles(
  conn: DuckDBConnection,
  opts: {
    relation: string;
    dataDir: string;
    fields: IcebergField[];
    spec: PartitionSpec;
  },
): Promise<DataFile[]> {
  const { fields, spec } = opts;
  await mkdir(opts.dataDir, { recursive: true });
  const select = fields.map(
    (f) => `CAST(${sqlIdent(f.name)} AS ${duckTypeOf(f.type)}) AS ${sqlIdent(f.name)}`,
  );
  const fieldIds = fields.map((f) => `${sqlString(f.name)}: ${f.id}`).join(', ');
  const partCols = spec.fields.map((p) => fields.find((f) => f.id === p['source-id'])!.name);
  const options = ['FORMAT parquet', 'COMPRESSION zstd', `FIELD_IDS {${fieldIds}}`, 'RETURN_STATS'];
  let target: string;
  if (partCols.length > 0) {
    target = opts.dataDir;
    options.push(
      `PARTITION_BY (${partCols.map(sqlIdent).join(', ')})`,
      'WRITE_PARTITION_COLUMNS true',
      `FILENAME_PATTERN 'data-{uuid}'`,
      'APPEND',
    );
  } else {
    target = join(opts.dataDir, `data-${randomUUID()}.parquet`);
  }
  const sql = `COPY (SELECT ${select.join(', ')} FROM (${opts.relation}) AS rows_in) TO ${sqlString(target)} (${options.join(', ')})`;
  const reader = await conn.runAndReadAll(sql);
  const out: DataFile[] = [];
  for (const row of reader.getRowObjectsJson()) {
    const count = Number(row.count);
    if (count === 0) continue;
    const stats = new Map<string, Map<string, string>>();
    for (const e of (row.column_statistics ?? []) as {
      key: string;
      value: { key: string; value: string }[];
    }[]) {
      stats.set(
        e.key.replace(/^"|"$/g, '').replaceAll('""', '"'),
        new Map(e.value.map((kv) => [kv.key, kv.value])),
      );
    }
    const pkeys = new Map(
      ((row.partition_keys ?? []) as { key: string; value: string | null }[]).map((kv) => [kv.key, kv.value]),
    );
    const file: DataFile = {
      path: toFileUri(String(row.filename)),
      partition: {},
      recordCount: count,
      fileSizeInBytes: Number(row.file_size_bytes),
      columnSizes: new Map(),
      valueCounts: new Map(),
      nullValueCounts: new Map(),
      lowerBounds: new Map(),
      upperBounds: new Map(),
    };
    for (const p of spec.fields) {
      const f = fields.find((x) => x.id === p['source-id'])!;
      file.partition[p.name] = partitionValue(f.type, pkeys.get(f.name));
    }
    for (const f of fields) {
      const s = stats.get(f.name);
      if (!s) continue;
      const num = (k: string) => (s.has(k) ? Number(s.get(k)) : undefined);
      const size = num('column_size_bytes');
      const nulls = num('null_count');
      if (size !== undefined) file.columnSizes!.set(f.id, size);
      if (nulls !== undefined) file.nullValueCounts!.set(f.id, nulls);
      file.valueCounts!.set(f.id, count);
      const min = s.get('min');
      const max = s.get('max');
      // Long strings are left without bounds rather than truncated (a truncated upper bound would need rounding up).
      const usable = (v: string | undefined) => v !== undefined && !(f.type === 'string' && v.length > 64);
      if (usable(min) && usable(max)) {
        const lo = serializeValue(f.type, min!);
        const hi = serializeValue(f.type, max!);
        if (lo && hi) {
          file.lowerBounds!.set(f.id, lo);
          file.upperBounds!.set(f.id, hi);
        }
      }
    }
    out.push(file);
  }
  return out;
}
