import type { DuckDBConnection } from '@duckdb/node-api';
import { LakehouseError } from '../errors.js';
import { recordSchemaOf } from './recordSchema.js';
import { frozenStreamSchema, type PipelinesField } from './streamSchema.js';
import type { PipelineDefinition } from './types.js';

/** Cloudflare's rule for stream, sink, pipeline and table names. */
export const CLOUDFLARE_NAME = /^[a-zA-Z0-9_]+$/;

/** Columns every transform must keep: the lake deduplicates on `event_id`. */
const REQUIRED_COLUMNS = ['event_id', 'event_type'];

function fail(def: { name?: unknown }, problem: string): never {
  throw new LakehouseError('CONFIG', `pipeline ${String(def.name)}: ${problem}`);
}

/**
 * Declares a pipeline and runs the checks that need no SQL engine: Cloudflare-valid names,
 * a known stream, partition column names. The transform is checked by
 * {@link validatePipeline} / {@link loadPipelines}, which run it through DuckDB.
 * Throws a `LakehouseError` (code `CONFIG`) naming the pipeline and the problem.
 */
export function definePipeline(def: PipelineDefinition): PipelineDefinition {
  if (typeof def.name !== 'string' || !CLOUDFLARE_NAME.test(def.name)) {
    fail(def, `name "${def.name}" is not valid for Cloudflare: use letters, digits and _ only`);
  }
  recordSchemaOf(def);
  const { table, namespace, partition } = def.destination;
  if (!CLOUDFLARE_NAME.test(table)) {
    fail(def, `table "${table}" is not valid for Cloudflare: use letters, digits and _ only`);
  }
  if (!CLOUDFLARE_NAME.test(namespace)) {
    fail(def, `namespace "${namespace}" is not valid: use letters, digits and _ only`);
  }
  for (const col of partition) {
    if (!CLOUDFLARE_NAME.test(col)) fail(def, `partition column "${col}" is not a plain column name`);
  }
  if (new Set(partition).size !== partition.length) fail(def, 'a partition column is listed twice');
  if (typeof def.transform !== 'string' || !/^\s*(select|with)\b/i.test(def.transform)) {
    fail(def, 'transform must be one SELECT statement (SELECT ... FROM source AS event)');
  }
  return def;
}

/** DuckDB column type of a stream schema field (the local platform reads the same records). */
export function duckdbType(field: PipelinesField): string {
  switch (field.type) {
    case 'string':
    case 'json':
      return 'VARCHAR';
    case 'decimal128':
      return `DECIMAL(${field.precision ?? 38}, ${field.scale ?? 0})`;
    case 'timestamp':
      return 'TIMESTAMPTZ';
    case 'int32':
      return 'INTEGER';
    case 'int64':
      return 'BIGINT';
    case 'uint32':
      return 'UINTEGER';
    case 'uint64':
      return 'UBIGINT';
    case 'float32':
      return 'FLOAT';
    case 'float64':
      return 'DOUBLE';
    case 'bool':
      return 'BOOLEAN';
    case 'bytes':
      return 'BLOB';
    default:
      throw new LakehouseError('CONFIG', `no DuckDB type for stream field type ${field.type}`);
  }
}

/** One output column of a transform. */
export interface TransformColumn {
  name: string;
  /** DuckDB type name (`VARCHAR`, `DECIMAL(18,4)`, `INTEGER`, `DATE`, ...). */
  type: string;
}

/** First line of a DuckDB error, without its `LINE 1: ...` caret display. */
function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e)
    .split('\n')[0]!
    .trim();
}

/** Field named by a DuckDB binder error about a missing column, if it is one. */
function unknownColumn(message: string): string | undefined {
  return (
    /does not have a column named "([^"]+)"/.exec(message)?.[1] ??
    /Referenced column "([^"]+)" not found/.exec(message)?.[1]
  );
}

/**
 * Runs a definition's transform over an empty `source` table typed like its stream
 * schema, and checks what it produces. Uses `conn` when given (see {@link loadPipelines}).
 * Returns the transform's output columns.
 */
export async function validatePipeline(
  def: PipelineDefinition,
  conn?: DuckDBConnection,
): Promise<TransformColumn[]> {
  definePipeline(def);
  if (!conn) return withValidator((c) => validatePipeline(def, c));

  const fields = frozenStreamSchema(def.stream, recordSchemaOf(def)).fields;
  const columns = fields.map((f) => `"${f.name}" ${duckdbType(f)}`);
  await conn.run(`CREATE OR REPLACE TABLE source (${columns.join(', ')})`);

  let statements: number;
  try {
    statements = (await conn.extractStatements(def.transform)).count;
  } catch (e) {
    fail(def, `transform SQL does not parse: ${firstLine(e).replace(/^.*Parser Error: /, '')}`);
  }
  if (statements !== 1) fail(def, `transform must be one SELECT statement, found ${statements}`);

  let out: TransformColumn[];
  try {
    const reader = await conn.runAndReadAll(`DESCRIBE ${def.transform}`);
    out = reader.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } catch (e) {
    const message = firstLine(e);
    const field = unknownColumn(message);
    if (field) {
      fail(
        def,
        `transform reads unknown field "${field}" (stream ${def.stream} has: ${fields.map((f) => f.name).join(', ')})`,
      );
    }
    if (/^Parser Error/.test(message)) {
      fail(def, `transform SQL does not parse: ${message.replace(/^Parser Error: /, '')}`);
    }
    fail(def, `transform does not run over stream ${def.stream}: ${message}`);
  }

  const names = out.map((c) => c.name);
  for (const name of names) {
    if (!CLOUDFLARE_NAME.test(name)) {
      fail(def, `transform output column "${name}" needs an alias of letters, digits and _ (AS name)`);
    }
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) fail(def, `transform produces column "${dup}" twice`);
  for (const col of REQUIRED_COLUMNS) {
    if (!names.includes(col)) fail(def, `transform must keep column "${col}" (event.${col} AS ${col})`);
  }
  for (const col of def.destination.partition) {
    if (!names.includes(col)) fail(def, `partition column "${col}" is not produced by the transform`);
  }
  return out;
}

/**
 * Opens an in-memory DuckDB for validation. External access is off (a transform cannot
 * read files or URLs) and the time zone is UTC, as in DataFusion, so that
 * `EXTRACT(YEAR FROM ts)` and `CAST(ts AS DATE)` give the same partition values on both
 * engines.
 */
async function withValidator<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  // Loaded on first use: the relay imports the definitions but never validates SQL, and
  // DuckDB's native library costs tens of MB of resident memory.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:', {
    enable_external_access: 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  try {
    await conn.run(`SET TimeZone = 'UTC'`);
    return await fn(conn);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * Validates pipeline definitions (default: the six of `definitions.ts`) and returns them.
 * Each transform runs over an empty typed `source` in embedded DuckDB: it must parse, read
 * only fields of its stream, keep `event_id`/`event_type` and produce every partition
 * column. The first broken definition throws a `LakehouseError` (code `CONFIG`).
 */
export async function loadPipelines(defs?: readonly PipelineDefinition[]): Promise<PipelineDefinition[]> {
  const list = defs ?? Object.values((await import('./definitions.js')).pipelines);
  const names = list.map((d) => d.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) fail({ name: dup }, 'two definitions have this name');
  await withValidator(async (conn) => {
    for (const def of list) await validatePipeline(def, conn);
  });
  return [...list];
}
