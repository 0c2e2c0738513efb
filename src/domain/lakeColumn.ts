import type { LakeFieldMeta } from './fields.js';

/**
 * Column types the lake can store, named as Iceberg primitive types (the local platform
 * and the R2 Data Catalog both hold Iceberg tables; Pipelines' stream schema types map
 * one to one: string, decimal128, timestamp, int64, int32, float64, bool).
 */
export type LakeColumnType =
  | 'string'
  | `decimal(${number}, ${number})`
  | 'timestamptz'
  | 'long'
  | 'int'
  | 'double'
  | 'boolean';

/** What the lake stores for one record field. */
export interface LakeColumn {
  /** Iceberg primitive type of the column. */
  type: LakeColumnType;
  /** `true` when a record may leave the field out or give `null`. */
  nullable: boolean;
  /** For enums and literals: the accepted values, in declaration order. */
  values?: string[];
}

/** A zod schema seen through its internal definition (`_zod.def`), not `instanceof`. */
interface ZodLike {
  _zod: {
    def: {
      type: string;
      innerType?: ZodLike;
      in?: ZodLike;
      format?: string;
      checks?: { _zod: { def: { format?: string } } }[];
      entries?: object;
      values?: unknown[];
    };
  };
  meta?: () => unknown;
}

const WRAPPERS = new Set(['nullable', 'optional', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']);

/**
 * Walks through nullable/optional/default/pipe wrappers to the schema that says what the
 * field is, keeping the first `lake` annotation met on the way (`timestamp()` annotates its
 * transform pipe). Reads zod's definitions rather than using `instanceof`, so a schema built
 * with another copy of zod (a user's project) is understood the same way.
 */
function unwrap(schema: ZodLike): { meta?: LakeFieldMeta; base: ZodLike; nullable: boolean } {
  let cur = schema;
  let meta: LakeFieldMeta | undefined;
  let nullable = false;
  for (let depth = 0; depth < 32; depth++) {
    const m = cur.meta?.() as Partial<LakeFieldMeta> | undefined;
    if (!meta && m?.lake) meta = m as LakeFieldMeta;
    const def = cur._zod.def;
    if (def.type === 'nullable' || def.type === 'optional' || def.type === 'default') nullable = true;
    if (WRAPPERS.has(def.type) && def.innerType) cur = def.innerType;
    // A transform's output type is opaque; the input side says what the JSON holds.
    else if (def.type === 'pipe' && def.in) cur = def.in;
    else break;
  }
  return { meta, base: cur, nullable };
}

const OF_META: Record<LakeFieldMeta['lake'], (m: LakeFieldMeta) => LakeColumnType> = {
  id: () => 'string',
  text: () => 'string',
  money: (m) => `decimal(${m.precision ?? 18}, ${m.scale ?? 4})`,
  timestamp: () => 'timestamptz',
  count: () => 'long',
  integer: () => 'int',
  float: () => 'double',
};

const INTEGER_FORMATS = new Set(['safeint', 'int32', 'uint32', 'int64', 'uint64']);

function isInteger(def: ZodLike['_zod']['def']): boolean {
  const formats = [def.format, ...(def.checks ?? []).map((c) => c._zod.def.format)];
  return formats.some((f) => f !== undefined && INTEGER_FORMATS.has(f));
}

function typeOfBase(base: ZodLike): Pick<LakeColumn, 'type' | 'values'> | undefined {
  const def = base._zod.def;
  switch (def.type) {
    case 'string':
      return { type: 'string' };
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      // z.number().int() is a safe integer: a long holds it; any other number is a double.
      return { type: isInteger(def) ? 'long' : 'double' };
    case 'enum':
      return { type: 'string', values: Object.values(def.entries ?? {}).map(String) };
    case 'literal':
      return (def.values ?? []).every((v) => typeof v === 'string')
        ? { type: 'string', values: (def.values ?? []).map(String) }
        : undefined;
    default:
      return undefined;
  }
}

/**
 * The lake column of a record field's zod schema, or a sentence saying why the lake
 * cannot store it. Field builders of `fields.ts` carry their lake type; plain zod strings,
 * enums, string literals, booleans and numbers are understood too (a plain number is a
 * `double`, `.int()` makes it a `long`). Objects, arrays, dates and unions are refused:
 * the lake stores flat, typed columns.
 */
export function lakeColumnOf(schema: unknown): LakeColumn | { unsupported: string } {
  const s = schema as ZodLike;
  if (!s?._zod?.def) return { unsupported: 'is not a zod schema' };
  const { meta, base, nullable } = unwrap(s);
  if (meta) {
    const values = typeOfBase(base)?.values;
    return { type: OF_META[meta.lake](meta), nullable, ...(values ? { values } : {}) };
  }
  const t = typeOfBase(base);
  if (t) return { ...t, nullable };
  return {
    unsupported:
      `has zod type "${base._zod.def.type}", which the lake cannot store as a column; ` +
      'use a field builder (id, text, money, timestamp, count, integer, float, nullable) or a string, enum, boolean or number',
  };
}
