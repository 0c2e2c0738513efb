import { validate as uuidValidate } from 'uuid';
import { z } from 'zod';
import { recordSchemaOf } from '../pipelines/recordSchema.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import { checkWritable } from './checkWritable.js';
import { sourceColumns } from './tableSchema.js';

/** Why a record was refused: Cloudflare's user-error reasons, plus our own for values. */
export type RecordErrorReason =
  | 'missing_field'
  | 'null_value'
  | 'type_mismatch'
  | 'invalid_value'
  | 'unknown_field';

/** One rejected field of one record of an ingest request. */
export interface RecordError {
  index: number;
  field: string;
  message: string;
  reason?: RecordErrorReason;
}

const envelopeFields = {
  // Normalised to lower case, so one event has one spelling of its id (dedupe, reconcile).
  event_id: z
    .string({ error: 'is required (a UUID)' })
    .refine((v) => uuidValidate(v), 'must be a UUID')
    .transform((v) => v.toLowerCase()),
  event_type: z.string({ error: 'is required (a string)' }).min(1, 'must not be empty').max(100),
};

/** The stream a request is checked against: its name, and its record schema unless built in. */
export type CheckedStream = string | Pick<PipelineDefinition, 'stream' | 'schema'>;

const schemas = new WeakMap<z.ZodObject, { schema: z.ZodObject; columns: Map<string, string> }>();
function schemaOf(target: CheckedStream): { schema: z.ZodObject; columns: Map<string, string> } {
  const def = typeof target === 'string' ? { stream: target } : target;
  const record = recordSchemaOf(def);
  let s = schemas.get(record);
  if (!s) {
    s = {
      schema: record.extend(envelopeFields),
      columns: new Map(sourceColumns({ stream: def.stream, schema: record })),
    };
    schemas.set(record, s);
  }
  return s;
}

function reasonOf(item: Record<string, unknown>, path: PropertyKey[], code: string): RecordErrorReason {
  const value = path.length === 1 ? item[String(path[0])] : undefined;
  if (path.length === 1 && value === undefined) return 'missing_field';
  if (value === null) return 'null_value';
  return code === 'invalid_type' || code === 'invalid_union' ? 'type_mismatch' : 'invalid_value';
}

/** The records of a request that passed, and the errors of those that did not. */
export interface CheckedRecords {
  /** A problem with the whole body (not a JSON array). */
  bodyError?: RecordError;
  records: Record<string, unknown>[];
  /** Indexes (in the request) of the records that failed. */
  failed: Set<number>;
  errors: RecordError[];
}

/**
 * Checks each record of an ingest request, before it is acknowledged, for everything the
 * lake needs: the stream's schema plus the `event_id`/`event_type` every lake record
 * carries, and what the Parquet/Iceberg writer needs (valid Unicode, timestamps and
 * decimals within range), so an acknowledged record never wedges its table. Returns the
 * normalized valid records and, for each invalid one, errors naming its index, field and
 * reason. With `stripUnknown`, fields the stream does not have are removed instead of
 * being errors.
 */
export function checkRecords(
  stream: CheckedStream,
  body: unknown,
  options: { stripUnknown?: boolean } = {},
): CheckedRecords {
  const out: CheckedRecords = { records: [], failed: new Set(), errors: [] };
  if (!Array.isArray(body)) {
    out.bodyError = { index: -1, field: '', message: 'the body must be a JSON array of records' };
    return out;
  }
  const { schema, columns } = schemaOf(stream);
  const known = Object.keys(schema.shape);
  body.forEach((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      out.failed.add(index);
      out.errors.push({
        index,
        field: '',
        message: 'a record must be a JSON object',
        reason: 'type_mismatch',
      });
      return;
    }
    const input = options.stripUnknown
      ? Object.fromEntries(
          known.filter((k) => Object.hasOwn(item, k)).map((k) => [k, (item as Record<string, unknown>)[k]]),
        )
      : item;
    const parsed = schema.safeParse(input);
    if (parsed.success) {
      const record = parsed.data as Record<string, unknown>;
      const unwritable = checkWritable(record, columns);
      if (unwritable.length === 0) {
        out.records.push(record);
        return;
      }
      out.failed.add(index);
      for (const f of unwritable) out.errors.push({ index, ...f, reason: 'invalid_value' });
      return;
    }
    out.failed.add(index);
    for (const iss of parsed.error.issues) {
      if (iss.code === 'unrecognized_keys') {
        for (const k of iss.keys)
          out.errors.push({
            index,
            field: k,
            message: `is not a field of ${typeof stream === 'string' ? stream : stream.stream}`,
            reason: 'unknown_field',
          });
      } else {
        out.errors.push({
          index,
          field: iss.path.map(String).join('.'),
          message: iss.message,
          reason: reasonOf(item as Record<string, unknown>, iss.path, iss.code),
        });
      }
    }
  });
  return out;
}

/**
 * Validates the records of an ingest request: either every record is valid and the
 * normalized records are returned, or the errors name each bad record's index and field.
 */
export function validateRecords(
  stream: CheckedStream,
  body: unknown,
): { ok: true; records: Record<string, unknown>[] } | { ok: false; errors: RecordError[] } {
  const r = checkRecords(stream, body);
  if (r.bodyError) return { ok: false, errors: [r.bodyError] };
  return r.errors.length > 0 ? { ok: false, errors: r.errors } : { ok: true, records: r.records };
}

/** The outcome of {@link checkRecord}: the normalized record, or what is wrong with it. */
export type RecordCheck =
  | { ok: true; record: Record<string, unknown> }
  | { ok: false; failures: { field: string; message: string }[] };

/** {@link checkRecords} for one record. */
export function checkRecord(stream: CheckedStream, item: unknown): RecordCheck {
  const r = checkRecords(stream, [item]);
  const record = r.records[0];
  if (record) return { ok: true, record };
  return { ok: false, failures: r.errors.map(({ field, message }) => ({ field, message })) };
}
