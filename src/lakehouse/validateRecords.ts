import { validate as uuidValidate } from 'uuid';
import { z } from 'zod';
import { type StreamName, streams } from '../domain/catalog.js';
import { checkWritable } from './checkWritable.js';
import { sourceColumns } from './tableSchema.js';

/** One rejected field of one record of an ingest request. */
export interface RecordError {
  index: number;
  field: string;
  message: string;
}

const envelopeFields = {
  event_id: z.string({ error: 'is required (a UUID)' }).refine((v) => uuidValidate(v), 'must be a UUID'),
  event_type: z.string({ error: 'is required (a string)' }).min(1, 'must not be empty').max(100),
};

const schemas = new Map<StreamName, { schema: z.ZodType; columns: Map<string, string> }>();
function schemaOf(stream: StreamName) {
  let s = schemas.get(stream);
  if (!s) {
    s = {
      schema: streams[stream].schema.extend(envelopeFields),
      columns: new Map(sourceColumns({ stream })),
    };
    schemas.set(stream, s);
  }
  return s;
}

/** The outcome of {@link checkRecord}: the normalized record, or what is wrong with it. */
export type RecordCheck =
  | { ok: true; record: Record<string, unknown> }
  | { ok: false; failures: { field: string; message: string }[] };

/**
 * Checks one record of an ingest request, before it is acknowledged, for everything the lake
 * needs: the stream's schema plus `event_id`/`event_type`, and what the Parquet/Iceberg writer
 * needs (valid Unicode, timestamps and decimals within range). A record that passes can always
 * be committed, so an acknowledged record never wedges its table.
 */
export function checkRecord(stream: StreamName, item: unknown): RecordCheck {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return { ok: false, failures: [{ field: '', message: 'a record must be a JSON object' }] };
  }
  const { schema, columns } = schemaOf(stream);
  const parsed = schema.safeParse(item);
  if (!parsed.success) {
    const failures: { field: string; message: string }[] = [];
    for (const iss of parsed.error.issues) {
      if (iss.code === 'unrecognized_keys') {
        for (const k of iss.keys) failures.push({ field: k, message: `is not a field of ${stream}` });
      } else {
        failures.push({ field: iss.path.map(String).join('.'), message: iss.message });
      }
    }
    return { ok: false, failures };
  }
  const record = parsed.data as Record<string, unknown>;
  const failures = checkWritable(record, columns);
  return failures.length > 0 ? { ok: false, failures } : { ok: true, record };
}

/**
 * Validates the records of an ingest request against the stream's schema plus the
 * `event_id`/`event_type` every lake record carries. Either every record is valid and the
 * normalized records are returned, or the errors name each bad record's index and field.
 */
export function validateRecords(
  stream: StreamName,
  body: unknown,
): { ok: true; records: Record<string, unknown>[] } | { ok: false; errors: RecordError[] } {
  if (!Array.isArray(body)) {
    return {
      ok: false,
      errors: [{ index: -1, field: '', message: 'the body must be a JSON array of records' }],
    };
  }
  const records: Record<string, unknown>[] = [];
  const errors: RecordError[] = [];
  body.forEach((item, index) => {
    const c = checkRecord(stream, item);
    if (c.ok) records.push(c.record);
    else for (const f of c.failures) errors.push({ index, ...f });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, records };
}
