/**
 * The one switch between the two ways the local platform treats what it receives. Every
 * behaviour that differs between them is decided here, so a new ingest check (for example a
 * record the table writer cannot store) only has to say whether it rejects or drops.
 *
 * - `strict` (default): tells the truth. An invalid record fails the request with 400
 *   naming the record and field; an unknown field is an error; a repeated `event_id` is
 *   dropped (exactly-once rows).
 * - `cloudflare` (`lakehouse serve --like-cloudflare`): behaves as Cloudflare Pipelines do.
 *   At least once (no dedupe by `event_id`: a resend is a second row); a record that fails
 *   the stream schema is answered 200 and dropped, counted as a "user error" with
 *   Cloudflare's reasons (`missing_field`, `type_mismatch`, `null_value`; `invalid_value`
 *   for a value of the right type the lake cannot take); unknown fields are stripped.
 */
export type IngestMode = 'strict' | 'cloudflare';

export interface IngestBehaviour {
  /** Drop records whose `event_id` the table already has. */
  dedupe: boolean;
  /** What an invalid record does to its request. */
  invalidRecord: 'reject-request' | 'drop-and-count';
  /** What a field the stream does not have does. */
  unknownField: 'error' | 'strip';
}

/** The behaviour of a mode (`dedupe` may be overridden in strict mode, for tests). */
export function ingestBehaviour(mode: IngestMode, dedupe?: boolean): IngestBehaviour {
  return mode === 'cloudflare'
    ? { dedupe: false, invalidRecord: 'drop-and-count', unknownField: 'strip' }
    : { dedupe: dedupe ?? true, invalidRecord: 'reject-request', unknownField: 'error' };
}
