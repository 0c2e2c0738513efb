import { validate as uuidValidate } from 'uuid';
import { z } from 'zod';
import { type StreamName, streams } from '../domain/catalog.js';

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

const schemas = new Map<StreamName, z.ZodType>();
function schemaOf(stream: StreamName): z.ZodType {
  let s = schemas.get(stream);
  if (!s) {
    s = streams[stream].schema.extend(envelopeFields);
    schemas.set(stream, s);
  }
  return s;
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
  const schema = schemaOf(stream);
  const records: Record<string, unknown>[] = [];
  const errors: RecordError[] = [];
  body.forEach((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      errors.push({ index, field: '', message: 'a record must be a JSON object' });
      return;
    }
    const parsed = schema.safeParse(item);
    if (parsed.success) {
      records.push(parsed.data as Record<string, unknown>);
      return;
    }
    for (const iss of parsed.error.issues) {
      if (iss.code === 'unrecognized_keys') {
        for (const k of iss.keys) errors.push({ index, field: k, message: `is not a field of ${stream}` });
      } else {
        errors.push({ index, field: iss.path.map(String).join('.'), message: iss.message });
      }
    }
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, records };
}
