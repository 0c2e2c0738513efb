import type { z } from 'zod';
import { LakehouseError } from '../errors.js';
import { type LakeColumn, lakeColumnOf } from './lakeColumn.js';

/**
 * Cloudflare's rule for stream, sink, pipeline and table names (see the Pipelines
 * reference): a stream named `orders` becomes the Pipelines stream `orders`, the lake table
 * `orders`, the sink `orders_sink`.
 */
export const STREAM_NAME = /^[a-zA-Z0-9_]+$/;

/** Field names: plain SQL identifiers, so they are columns on DuckDB, DataFusion and Iceberg alike. */
export const FIELD_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Columns the envelope adds to every lake record: a stream's own fields cannot use them. */
export const ENVELOPE_COLUMNS = ['event_id', 'event_type'] as const;

/** Event types, as `createEvent` accepts them (`order.placed`). */
const EVENT_TYPE = /^[a-z][a-z0-9_.-]{0,99}$/;

/** Partition columns computed from the stream's time field when they are not fields themselves. */
export const TIME_PARTITIONS = ['year', 'month', 'day', 'date', 'hour'] as const;

/** How a stream lands in the lake. */
export interface LakeOptions {
  /** Iceberg table name. Default: the stream name. */
  table?: string;
  /**
   * Partition columns, in order: fields of the stream, or `year`/`month`/`day`/`date`/`hour`
   * computed from `timeField`; with a `transform`, also columns the transform produces
   * (checked when the table is created, where the SQL runs).
   */
  partition: string[];
  /** One `SELECT ... FROM source AS event` that shapes the rows (the Pipelines SQL). Default: every field plus the time partitions. */
  transform?: string;
}

/** What {@link defineStream} takes. */
export interface StreamOptions<Name extends string, Schema extends z.ZodObject> {
  /** Stream and lake table name: letters, digits and `_` (Cloudflare's rule). */
  name: Name;
  /** Strict zod object of one record; every field must be a type the lake can store. */
  schema: Schema;
  /** Field whose value orders delivery (events with equal values arrive in order). Default `tenant_id`. */
  partitionKey?: string;
  /** Timestamp field holding the business time. Default: the first `timestamp()` field. */
  timeField?: string;
  /** How the stream lands in the lake. */
  lake: LakeOptions;
  /** What a record the destination rejects does: `park` or `block` (strict order). Default: the relay's setting (`park`). */
  onPoison?: 'park' | 'block';
  /** Event type used when the caller gives none. Default `<name>.recorded`. */
  defaultEventType?: string;
  /** Version of the record schema, stored with every event. Default 1. */
  schemaVersion?: number;
  /** One line for humans. */
  description?: string;
}

/** A validated stream: every default filled in, the lake column of each field known. */
export interface LakeStream<Name extends string = string, Schema extends z.ZodObject = z.ZodObject> {
  readonly name: Name;
  readonly schema: Schema;
  readonly partitionKey: string;
  readonly timeField: string;
  readonly lake: Readonly<Required<Omit<LakeOptions, 'transform'>> & Pick<LakeOptions, 'transform'>>;
  /** Set when the stream chose; otherwise the relay's settings decide. */
  readonly onPoison?: 'park' | 'block';
  readonly defaultEventType: string;
  readonly schemaVersion: number;
  readonly description: string;
  /** Lake column of each field, in schema order. */
  readonly columns: Readonly<Record<string, LakeColumn>>;
}

function fail(stream: string, problem: string): never {
  throw new LakehouseError('CONFIG', `stream ${stream}: ${problem}`);
}

function columnsOf(name: string, schema: z.ZodObject): Record<string, LakeColumn> {
  const def = (
    schema as unknown as {
      _zod?: { def?: { type?: string; catchall?: { _zod: { def: { type: string } } } } };
    }
  )._zod?.def;
  if (def?.type !== 'object') fail(name, 'schema must be a zod object (z.strictObject({...}))');
  if (def.catchall?._zod.def.type !== 'never') {
    fail(name, 'schema must be strict (z.strictObject): a field the lake has no column for must be an error');
  }
  const columns: Record<string, LakeColumn> = {};
  for (const [field, fieldSchema] of Object.entries(schema.shape)) {
    if (!FIELD_NAME.test(field))
      fail(name, `field "${field}" is not a plain column name (letters, digits, _)`);
    if ((ENVELOPE_COLUMNS as readonly string[]).includes(field)) {
      fail(name, `field "${field}" is reserved: the envelope adds it to every lake record`);
    }
    const col = lakeColumnOf(fieldSchema);
    if ('unsupported' in col) fail(name, `field "${field}" ${col.unsupported}`);
    columns[field] = col;
  }
  return columns;
}

function requiredString(
  name: string,
  columns: Record<string, LakeColumn>,
  field: string,
  role: string,
): void {
  const col = columns[field];
  if (!col) fail(name, `${role} "${field}" is not a field (fields: ${Object.keys(columns).join(', ')})`);
  if (col.type !== 'string' || col.nullable) fail(name, `${role} "${field}" must be a required string field`);
}

function timeFieldOf(name: string, columns: Record<string, LakeColumn>, given?: string): string {
  if (given !== undefined) {
    if (columns[given]?.type !== 'timestamptz')
      fail(name, `timeField "${given}" must be a timestamp() field`);
    return given;
  }
  const first = Object.keys(columns).find((f) => columns[f]?.type === 'timestamptz');
  if (!first) fail(name, 'no timestamp() field: every stream needs a business time (set timeField)');
  return first;
}

function checkLake(name: string, columns: Record<string, LakeColumn>, lake: LakeOptions): void {
  if (lake.table !== undefined && !STREAM_NAME.test(lake.table)) {
    fail(name, `lake table "${lake.table}" is not valid for Cloudflare: use letters, digits and _ only`);
  }
  if (!Array.isArray(lake.partition)) fail(name, 'lake.partition must be a list of column names');
  if (new Set(lake.partition).size !== lake.partition.length)
    fail(name, 'a lake partition column is listed twice');
  for (const p of lake.partition) {
    if (p in columns || (TIME_PARTITIONS as readonly string[]).includes(p)) continue;
    if (lake.transform !== undefined && FIELD_NAME.test(p)) continue;
    fail(
      name,
      `lake partition "${p}" is not a field (fields: ${Object.keys(columns).join(', ')}; ` +
        `computed from the time field: ${TIME_PARTITIONS.join(', ')})`,
    );
  }
  if (lake.transform !== undefined && !/^\s*(select|with)\b/i.test(lake.transform)) {
    fail(name, 'lake.transform must be one SELECT statement (SELECT ... FROM source AS event)');
  }
}

/**
 * Declares a stream of your own: its record schema, partition key and place in the lake.
 * Checks everything that needs no database or SQL engine and throws a `LakehouseError`
 * (code `CONFIG`) naming the stream and the field: a Cloudflare-valid name, a strict
 * schema of lake-storable fields, a required string `tenant_id` (the outbox, the relay and
 * the lake are multi-tenant) and partition key, a timestamp time field, known partition columns.
 */
export function defineStream<const Name extends string, Schema extends z.ZodObject>(
  options: StreamOptions<Name, Schema>,
): LakeStream<Name, Schema> {
  const name = options?.name;
  if (typeof name !== 'string' || !STREAM_NAME.test(name)) {
    throw new LakehouseError(
      'CONFIG',
      `stream name ${JSON.stringify(name)} is not valid for Cloudflare: use letters, digits and _ only`,
    );
  }
  const columns = columnsOf(name, options.schema);
  requiredString(name, columns, 'tenant_id', 'field');
  const partitionKey = options.partitionKey ?? 'tenant_id';
  requiredString(name, columns, partitionKey, 'partition key');
  const timeField = timeFieldOf(name, columns, options.timeField);
  if (!options.lake || typeof options.lake !== 'object')
    fail(name, 'lake options are missing ({ partition: [...] })');
  checkLake(name, columns, options.lake);
  if (options.onPoison !== undefined && options.onPoison !== 'park' && options.onPoison !== 'block') {
    fail(name, `onPoison must be "park" or "block", got ${JSON.stringify(options.onPoison)}`);
  }
  const defaultEventType = options.defaultEventType ?? `${name.toLowerCase()}.recorded`;
  if (!EVENT_TYPE.test(defaultEventType)) {
    fail(name, `defaultEventType "${defaultEventType}" must match ${EVENT_TYPE.source} (e.g. refund.issued)`);
  }
  const schemaVersion = options.schemaVersion ?? 1;
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1)
    fail(name, 'schemaVersion must be a positive integer');
  const { transform, ...lake } = options.lake;
  return Object.freeze({
    name,
    schema: options.schema,
    partitionKey,
    timeField,
    lake: Object.freeze({
      ...lake,
      table: lake.table ?? name,
      partition: [...lake.partition],
      ...(transform ? { transform } : {}),
    }),
    ...(options.onPoison ? { onPoison: options.onPoison } : {}),
    defaultEventType,
    schemaVersion,
    description: options.description ?? '',
    columns: Object.freeze(columns),
  });
}
