import { validate as uuidValidate, v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors.js';
import type { StreamInput, StreamName, StreamRecord } from './catalog.js';
import { defaultCatalog } from './defaultCatalog.js';
import type { Catalog } from './defineCatalog.js';

/**
 * Largest serialized lake record accepted, in bytes of JSON (UTF-8). Pipelines takes at
 * most 1 MB per request; 128 KiB leaves room for at least seven records per request and
 * keeps any single record far from the limit, so batching never has to send one alone.
 */
export const MAX_RECORD_BYTES = 128 * 1024;

/** Correlation and trace context carried with an event (not sent to the lake). */
export const eventMetadata = z.strictObject({
  correlation_id: z.string().max(128).optional(),
  causation_id: z.string().max(128).optional(),
  /** W3C trace context `traceparent` header value. */
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'must be a W3C traceparent')
    .optional(),
  tracestate: z.string().max(512).optional(),
  /** Who or what caused the event (user id, service name). */
  actor: z.string().max(128).optional(),
});
export type EventMetadata = z.infer<typeof eventMetadata>;

const EVENT_TYPE = /^[a-z][a-z0-9_.-]{0,99}$/;

/** A validated domain event, ready for the outbox. */
export interface EventEnvelope<S extends StreamName = StreamName> {
  /** UUID (v7 by default, so ids sort by creation time); the idempotency key, sent to the lake. */
  event_id: string;
  /** The lake stream (table) the event feeds. */
  stream: S;
  /** What happened (`order.placed`), sent to the lake as `event_type`. */
  event_type: string;
  tenant_id: string;
  /** Value of the stream's partition key field: events with equal keys are delivered in order. */
  partition_key: string;
  /** When it happened (ISO-8601 UTC). */
  occurred_at: string;
  schema_version: number;
  metadata: EventMetadata;
  /** The lake record (normalized). */
  data: StreamRecord<S>;
  /** Set for events of an event-sourced aggregate. */
  aggregate?: { type: string; id: string };
}

export interface CreateEventOptions {
  /** Idempotency key; a new UUIDv7 when left out. Any UUID is accepted. */
  eventId?: string;
  eventType?: string;
  metadata?: EventMetadata;
  /** Overrides the stream's partition key field (name of a record field). */
  partitionKey?: string;
  aggregate?: { type: string; id: string };
}

/** What `emit` accepts: a ready envelope, or a stream name with its record. */
export type EventInput<S extends StreamName = StreamName> =
  | EventEnvelope<S>
  | ({ stream: S; data: StreamInput<S> } & CreateEventOptions);

function zodIssues(stream: string, error: z.ZodError, prefix = '', fields: string[] = []): ValidationIssue[] {
  return error.issues.map((iss) => {
    const field = prefix + iss.path.map(String).join('.');
    let problem = iss.message;
    if (iss.code === 'unrecognized_keys') {
      return {
        stream,
        field: prefix + iss.keys.join(', '),
        problem: `is not a field of ${stream} (fields: ${fields.join(', ')})`,
      };
    }
    if (iss.code === 'invalid_value' && 'values' in iss) problem = `must be one of ${iss.values.join(', ')}`;
    if (problem === 'Invalid input' && iss.code === 'invalid_type') problem = `must be ${iss.expected}`;
    return { stream, field, problem };
  });
}

/** Byte length of a value's JSON form, as it would be sent. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * Validates a record for a stream of `catalog` (default: the default catalog) and wraps it
 * in an envelope carrying the stream's `schemaVersion`. Throws a {@link ValidationError}
 * naming the stream and the field; nothing is written anywhere.
 */
export function createEvent<S extends StreamName>(
  stream: S,
  data: StreamInput<S>,
  options: CreateEventOptions = {},
  catalog: Catalog = defaultCatalog,
): EventEnvelope<S> {
  const def = typeof stream === 'string' ? catalog.get(stream) : undefined;
  if (!def) {
    throw new ValidationError(
      [
        {
          field: 'stream',
          problem: `unknown stream "${String(stream)}"; known streams: ${catalog.names.join(', ')}`,
        },
      ],
      'UNKNOWN_STREAM',
    );
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ValidationError([{ stream, field: '', problem: 'the record must be a JSON object' }]);
  }
  const parsed = def.schema.safeParse(data);
  if (!parsed.success)
    throw new ValidationError(zodIssues(stream, parsed.error, '', Object.keys(def.schema.shape)));
  const record = parsed.data as StreamRecord<S>;

  const issues: ValidationIssue[] = [];
  const eventId = options.eventId ?? uuidv7();
  if (typeof eventId !== 'string' || !uuidValidate(eventId)) {
    issues.push({ stream, field: 'event_id', problem: `must be a UUID, got ${JSON.stringify(eventId)}` });
  }
  const eventType = options.eventType ?? def.defaultEventType;
  if (!EVENT_TYPE.test(eventType)) {
    issues.push({
      stream,
      field: 'event_type',
      problem: 'must match ^[a-z][a-z0-9_.-]{0,99}$ (e.g. order.placed)',
    });
  }
  const meta = eventMetadata.safeParse(options.metadata ?? {});
  if (!meta.success) issues.push(...zodIssues(stream, meta.error, 'metadata.'));
  const keyField = options.partitionKey ?? def.partitionKey;
  const keyValue = (record as Record<string, unknown>)[keyField];
  if (!(keyField in def.schema.shape)) {
    issues.push({ stream, field: keyField, problem: 'partition key is not a field of the stream' });
  } else if (keyValue === null || keyValue === undefined || keyValue === '') {
    issues.push({ stream, field: keyField, problem: 'partition key field must have a value' });
  }
  if (issues.length > 0) throw new ValidationError(issues);

  const envelope: EventEnvelope<S> = {
    event_id: eventId.toLowerCase(),
    stream,
    event_type: eventType,
    tenant_id: (record as { tenant_id: string }).tenant_id,
    partition_key: String(keyValue),
    occurred_at: String((record as Record<string, unknown>)[def.timeField]),
    schema_version: def.schemaVersion,
    metadata: meta.data ?? {},
    data: record,
    ...(options.aggregate ? { aggregate: options.aggregate } : {}),
  };
  const size = jsonBytes(toLakeRecord(envelope));
  if (size > MAX_RECORD_BYTES) {
    throw new ValidationError(
      [
        {
          stream,
          field: '',
          problem: `record is ${size} bytes, over the ${MAX_RECORD_BYTES}-byte limit per record`,
        },
      ],
      'RECORD_TOO_LARGE',
    );
  }
  return envelope;
}

/**
 * Turns an {@link EventInput} into a validated envelope (envelopes are re-validated),
 * against `catalog` (default: the default catalog).
 */
export function toEnvelope(
  input: EventInput,
  index?: number,
  catalog: Catalog = defaultCatalog,
): EventEnvelope {
  try {
    if (input === null || typeof input !== 'object') {
      throw new ValidationError([{ field: '', problem: 'an event must be an object' }]);
    }
    const { stream, data, ...rest } = input as {
      stream: StreamName;
      data: StreamInput<StreamName>;
    } & Partial<EventEnvelope>;
    const options: CreateEventOptions = {
      eventId: rest.event_id ?? (rest as CreateEventOptions).eventId,
      eventType: rest.event_type ?? (rest as CreateEventOptions).eventType,
      metadata: rest.metadata,
      partitionKey: (rest as CreateEventOptions).partitionKey,
      aggregate: rest.aggregate,
    };
    const env = createEvent(stream, data, options, catalog);
    // An envelope built elsewhere keeps its own partition key value.
    if (typeof rest.partition_key === 'string' && rest.partition_key !== '')
      env.partition_key = rest.partition_key;
    return env;
  } catch (e) {
    if (e instanceof ValidationError && index !== undefined) {
      throw new ValidationError(
        e.issues.map((i) => ({ ...i, index })),
        e.code,
      );
    }
    throw e;
  }
}

/**
 * The flat record that goes to the lake for an event: its stream's fields plus
 * `event_id` (for deduplication of at-least-once delivery) and `event_type`.
 */
export function toLakeRecord(
  e: Pick<EventEnvelope, 'event_id' | 'event_type' | 'data'>,
): Record<string, unknown> {
  return { event_id: e.event_id, event_type: e.event_type, ...e.data };
}
