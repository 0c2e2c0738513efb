import type { DuckDBConnection } from '@duckdb/node-api';
import type { z } from 'zod';
import type { LakeFieldMeta } from '../domain/fields.js';
import { recordSchemaOf } from '../pipelines/recordSchema.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import type { IcebergField, PartitionSpec } from './types.js';

/** DuckDB type of each lake logical type, as staged records are read. */
const DUCK_OF_LAKE: Record<LakeFieldMeta['lake'], string> = {
  id: 'VARCHAR',
  text: 'VARCHAR',
  money: 'DECIMAL(18,4)',
  // Timestamps arrive as UTC ISO strings: an instant, so timestamptz (Parquet isAdjustedToUTC).
  timestamp: 'TIMESTAMPTZ',
  count: 'BIGINT',
  integer: 'INTEGER',
  float: 'DOUBLE',
};

function lakeMeta(schema: z.ZodType): LakeFieldMeta | undefined {
  let s: unknown = schema;
  for (let i = 0; i < 8 && s; i++) {
    const meta = (s as { meta?: () => unknown }).meta?.() as LakeFieldMeta | undefined;
    if (meta?.lake) return meta;
    const unwrap = (s as { unwrap?: () => unknown }).unwrap;
    s = typeof unwrap === 'function' ? unwrap.call(s) : undefined;
  }
  return undefined;
}

/** Columns of a stream's staged records (`event_id`, `event_type` and the schema's fields) with DuckDB types. */
export function sourceColumns(def: Pick<PipelineDefinition, 'stream' | 'schema'>): [string, string][] {
  const shape = recordSchemaOf(def).shape as Record<string, z.ZodType>;
  const cols: [string, string][] = [
    ['event_id', 'VARCHAR'],
    ['event_type', 'VARCHAR'],
  ];
  for (const [name, field] of Object.entries(shape)) {
    const meta = lakeMeta(field);
    const duck = meta ? DUCK_OF_LAKE[meta.lake] : 'VARCHAR';
    cols.push([name, meta?.lake === 'money' ? `DECIMAL(${meta.precision ?? 18},${meta.scale ?? 4})` : duck]);
  }
  return cols;
}

/** `read_json(files, ...)` with the stream's columns, typed: the relation that replaces `source`. */
export function sourceRelation(def: PipelineDefinition, files: string[]): string {
  const cols = sourceColumns(def)
    .map(([n, t]) => `${sqlString(n)}: ${sqlString(t)}`)
    .join(', ');
  return `read_json([${files.map(sqlString).join(', ')}], format = 'newline_delimited', columns = {${cols}})`;
}

export const sqlString = (s: string): string => `'${s.replaceAll("'", "''")}'`;
export const sqlIdent = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/** Iceberg primitive type of a DuckDB column type, or undefined when the lake cannot store it. */
export function icebergTypeOf(duckType: string): string | undefined {
  const t = duckType.toUpperCase();
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(t);
  if (dec) return `decimal(${dec[1]}, ${dec[2]})`;
  const map: Record<string, string> = {
    VARCHAR: 'string',
    BIGINT: 'long',
    INTEGER: 'int',
    SMALLINT: 'int',
    TINYINT: 'int',
    DOUBLE: 'double',
    FLOAT: 'float',
    BOOLEAN: 'boolean',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    'TIMESTAMP WITH TIME ZONE': 'timestamptz',
    UUID: 'uuid',
    BLOB: 'binary',
  };
  return map[t];
}

/** DuckDB type of an Iceberg primitive type (for casts and empty views). */
export function duckTypeOf(icebergType: string): string {
  const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(icebergType);
  if (dec) return `DECIMAL(${dec[1]},${dec[2]})`;
  const map: Record<string, string> = {
    string: 'VARCHAR',
    long: 'BIGINT',
    int: 'INTEGER',
    double: 'DOUBLE',
    float: 'FLOAT',
    boolean: 'BOOLEAN',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
    timestamptz: 'TIMESTAMPTZ',
    uuid: 'UUID',
    binary: 'BLOB',
  };
  const d = map[icebergType];
  if (!d) throw new Error(`unsupported Iceberg type ${icebergType}`);
  return d;
}

/** Wraps a pipeline transform so that `source` names the staged records. */
export function transformOver(def: PipelineDefinition): string {
  // The transform text is trusted configuration (code), not user input; it reads `source`,
  // which the caller defines as a temp view over the staged records.
  return def.transform.trim().replace(/;\s*$/, '');
}

/**
 * The Iceberg schema and partition spec of a pipeline's table, from the column names and
 * types the transform produces (DuckDB describes it over an empty source).
 */
export async function deriveTableSchema(
  conn: DuckDBConnection,
  def: PipelineDefinition,
): Promise<{ fields: IcebergField[]; spec: PartitionSpec }> {
  const cols = sourceColumns(def)
    .map(([n, t]) => `CAST(NULL AS ${t}) AS ${sqlIdent(n)}`)
    .join(', ');
  await conn.run(`CREATE OR REPLACE TEMP VIEW source AS SELECT ${cols} WHERE false`);
  const reader = await conn.runAndReadAll(`DESCRIBE ${transformOver(def)}`);
  const fields: IcebergField[] = [];
  for (const row of reader.getRowObjectsJson()) {
    const name = String(row.column_name);
    const type = icebergTypeOf(String(row.column_type));
    if (!type) {
      throw new Error(
        `pipeline ${def.name}: column ${name} has type ${row.column_type}, which the lake cannot store; cast it in the transform`,
      );
    }
    fields.push({ id: fields.length + 1, name, required: false, type });
  }
  const spec: PartitionSpec = { 'spec-id': 0, fields: [] };
  for (const p of def.destination.partition) {
    const f = fields.find((x) => x.name === p);
    if (!f)
      throw new Error(`pipeline ${def.name}: partition column ${p} is not a column of the transform output`);
    spec.fields.push({
      name: p,
      transform: 'identity',
      'source-id': f.id,
      'field-id': 1000 + spec.fields.length,
    });
  }
  return { fields, spec };
}
