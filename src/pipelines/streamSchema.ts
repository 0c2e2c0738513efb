import { z } from 'zod';
import { defaultCatalog } from '../domain/defaultCatalog.js';
import type { Catalog } from '../domain/defineCatalog.js';
import type { LakeFieldMeta } from '../domain/fields.js';
import { LakehouseError } from '../errors.js';

/** Field types of a Pipelines stream schema. */
export type PipelinesFieldType =
  | 'bool'
  | 'int32'
  | 'int64'
  | 'uint32'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'decimal128'
  | 'string'
  | 'timestamp'
  | 'json'
  | 'bytes'
  | 'list'
  | 'struct';

/** One field of a Pipelines stream schema (`wrangler pipelines streams create --schema-file`). */
export interface PipelinesField {
  name: string;
  type: PipelinesFieldType;
  /** `false` when the record may carry `null` (or leave the field out). */
  required: boolean;
  /** For `decimal128`: total significant digits. */
  precision?: number;
  /** For `decimal128`: digits after the decimal point. */
  scale?: number;
  /** For `timestamp` given as numbers. Not set: our timestamps are RFC 3339 strings. */
  unit?: 'second' | 'millisecond' | 'microsecond' | 'nanosecond';
}

/** The content of a stream schema file: `{"fields":[...]}`. */
export interface PipelinesStreamSchema {
  fields: PipelinesField[];
}

/**
 * Columns every lake record starts with (see `toLakeRecord`): `event_id` deduplicates
 * at-least-once delivery, `event_type` says what happened.
 */
const ENVELOPE_FIELDS: PipelinesField[] = [
  { name: 'event_id', type: 'string', required: true },
  { name: 'event_type', type: 'string', required: true },
];

interface Unwrapped {
  meta: LakeFieldMeta | undefined;
  base: z.ZodType;
  nullable: boolean;
}

/**
 * Walks through nullable/optional/default/pipe wrappers to the schema that says what the
 * field is, keeping the first `lake` annotation met on the way (the annotation may sit on a
 * wrapper: `timestamp()` annotates its transform pipe).
 */
function unwrap(schema: z.ZodType): Unwrapped {
  let cur: z.ZodType = schema;
  let meta: LakeFieldMeta | undefined;
  let nullable = false;
  for (;;) {
    const m = z.globalRegistry.get(cur) as Partial<LakeFieldMeta> | undefined;
    if (!meta && m?.lake) meta = m as LakeFieldMeta;
    if (cur instanceof z.ZodNullable || cur instanceof z.ZodOptional) {
      nullable = true;
      cur = cur.unwrap() as z.ZodType;
    } else if (cur instanceof z.ZodDefault || cur instanceof z.ZodPrefault) {
      cur = cur.def.innerType as z.ZodType;
    } else if (cur instanceof z.ZodPipe) {
      // A transform's output type is opaque; the input side says what the JSON holds.
      cur = cur.def.in as z.ZodType;
    } else if (cur instanceof z.ZodReadonly) {
      cur = cur.def.innerType as z.ZodType;
    } else {
      return { meta, base: cur, nullable };
    }
  }
}

function fieldOf(stream: string, name: string, schema: z.ZodType): PipelinesField {
  const { meta, base, nullable } = unwrap(schema);
  const required = !nullable;
  switch (meta?.lake) {
    case 'id':
    case 'text':
      return { name, type: 'string', required };
    case 'money':
      // decimal128 and not float64: SUM over millions of prices must match the books to the
      // cent, which binary floats do not guarantee.
      return {
        name,
        type: 'decimal128',
        required,
        precision: meta.precision ?? 18,
        scale: meta.scale ?? 4,
      };
    case 'timestamp':
      return { name, type: 'timestamp', required };
    case 'count':
      return { name, type: 'int64', required };
    case 'integer':
      // `integer()` is bounded to ±2^31 by the domain, so int32 holds every accepted value.
      return { name, type: 'int32', required };
    case 'float':
      return { name, type: 'float64', required };
    case undefined:
      break;
  }
  if (base instanceof z.ZodEnum || base instanceof z.ZodString || base instanceof z.ZodLiteral) {
    return { name, type: 'string', required };
  }
  if (base instanceof z.ZodBoolean) return { name, type: 'bool', required };
  throw new LakehouseError(
    'CONFIG',
    `stream ${stream}: field "${name}" has no lake type; annotate it with a field builder from src/domain/fields.ts`,
  );
}

/** Builds the Pipelines stream schema of any strict zod object of lake fields. */
export function streamSchemaOf(stream: string, schema: z.ZodObject): PipelinesStreamSchema {
  const fields = Object.entries(schema.shape).map(([name, s]) => fieldOf(stream, name, s as z.ZodType));
  return { fields: [...ENVELOPE_FIELDS, ...fields] };
}

const cache = new WeakMap<z.ZodObject, PipelinesStreamSchema>();

/**
 * {@link streamSchemaOf}, computed once per zod schema and frozen: shared by every caller,
 * so that nobody changes the schema the others check against.
 */
export function frozenStreamSchema(stream: string, schema: z.ZodObject): PipelinesStreamSchema {
  let s = cache.get(schema);
  if (!s) {
    s = streamSchemaOf(stream, schema);
    for (const f of s.fields) Object.freeze(f);
    Object.freeze(s.fields);
    Object.freeze(s);
    cache.set(schema, s);
  }
  return s;
}

/**
 * The Pipelines stream schema of a lake stream of `catalog` (default: the built-in
 * streams), generated from its zod schema: `event_id` and `event_type` first, then the
 * stream's fields in order. `required` is false exactly for nullable fields. Throws
 * `NOT_FOUND` for a stream the catalog does not have.
 */
export function streamSchema(stream: string, catalog: Catalog = defaultCatalog): PipelinesStreamSchema {
  const def = catalog.get(stream);
  if (!def) {
    throw new LakehouseError(
      'NOT_FOUND',
      `unknown stream "${stream}"; known streams: ${catalog.names.join(', ')}`,
    );
  }
  return frozenStreamSchema(stream, def.schema);
}

/** RFC 3339 date-time with a zone, as Pipelines reads `timestamp` strings. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

const INT_RANGES: Partial<Record<PipelinesFieldType, [number, number]>> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** Digits before and after the point of a finite number's shortest decimal form. */
function decimalDigits(v: number): { int: number; frac: number } {
  const [mantissa = '', exp = '0'] = Math.abs(v).toString().toLowerCase().split('e');
  const [i = '', f = ''] = mantissa.split('.');
  const e = Number(exp);
  const intDigits = i.replace(/^0+/, '').length + e;
  const fracDigits = Math.max(0, f.length - e);
  return { int: Math.max(0, intDigits), frac: fracDigits };
}

function valueProblem(field: PipelinesField, v: unknown): string | undefined {
  const range = INT_RANGES[field.type];
  if (range) {
    if (typeof v !== 'number' || !Number.isInteger(v)) return `must be an integer (${field.type})`;
    if (v < range[0] || v > range[1]) return `is out of range for ${field.type}`;
    return undefined;
  }
  switch (field.type) {
    case 'string':
      return typeof v === 'string' ? undefined : 'must be a string';
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'float32':
    case 'float64':
      return typeof v === 'number' && Number.isFinite(v)
        ? undefined
        : `must be a finite number (${field.type})`;
    case 'decimal128': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a finite number (decimal128)';
      const scale = field.scale ?? 0;
      const precision = field.precision ?? 38;
      const d = decimalDigits(v);
      if (d.frac > scale) return `has more than ${scale} decimal places (decimal128(${precision}, ${scale}))`;
      if (d.int > precision - scale) return `has too many digits for decimal128(${precision}, ${scale})`;
      return undefined;
    }
    case 'timestamp':
      if (typeof v === 'number') {
        return field.unit ? undefined : 'must be an RFC 3339 string (the schema gives no unit for numbers)';
      }
      if (typeof v !== 'string' || !RFC3339.test(v) || Number.isNaN(Date.parse(v))) {
        return 'must be an RFC 3339 date-time string such as 2026-02-01T10:00:00.000Z';
      }
      return undefined;
    case 'json':
      return undefined;
    case 'bytes':
      return typeof v === 'string' ? undefined : 'must be a string (bytes)';
    case 'list':
      return Array.isArray(v) ? undefined : 'must be an array';
    case 'struct':
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? undefined : 'must be an object';
    default:
      return `has unsupported type ${field.type}`;
  }
}

/**
 * Checks a lake record against a Pipelines stream schema: what Pipelines would store.
 * Returns the first problem (`field "x": reason`), or undefined when the record fits.
 */
export function validateAgainst(schema: PipelinesStreamSchema, record: unknown): string | undefined {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return 'the record must be a JSON object';
  }
  const rec = record as Record<string, unknown>;
  const known = new Set(schema.fields.map((f) => f.name));
  for (const key of Object.keys(rec)) {
    if (!known.has(key)) return `field "${key}" is not in the stream schema`;
  }
  for (const field of schema.fields) {
    const v = rec[field.name];
    if (v === undefined || v === null) {
      if (field.required) return `field "${field.name}" is required`;
      continue;
    }
    const problem = valueProblem(field, v);
    if (problem) return `field "${field.name}" ${problem}`;
  }
  return undefined;
}

/**
 * Checks a lake record (`{event_id, event_type, ...fields}`) against the generated stream
 * schema of `stream` in `catalog` (default: the built-in streams). Pipelines answers 200 to
 * a record that does not match and drops it later without a trace, so this runs before
 * sending. Returns a reason, or undefined.
 */
export function validateRecord(
  stream: string,
  record: unknown,
  catalog: Catalog = defaultCatalog,
): string | undefined {
  const def = catalog.get(stream);
  if (!def) return `unknown stream "${stream}"`;
  const problem = validateAgainst(frozenStreamSchema(stream, def.schema), record);
  return problem ? `stream ${stream}: ${problem}` : undefined;
}

/**
 * {@link validateRecord} against `catalog` as the relay Sink's `check` hook: any stream name
 * is accepted and one the catalog lacks is itself a reason (Pipelines has no such stream).
 */
export function recordCheckFor(
  catalog: Catalog,
): (stream: string, record: Record<string, unknown>) => string | undefined {
  if (catalog === defaultCatalog) return pipelinesRecordCheck;
  return (stream, record) => validateRecord(stream, record, catalog);
}

/** {@link recordCheckFor} the built-in streams (the same function every time). */
export function pipelinesRecordCheck(stream: string, record: Record<string, unknown>): string | undefined {
  return validateRecord(stream, record, defaultCatalog);
}
