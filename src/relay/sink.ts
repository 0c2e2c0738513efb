/**
 * Where the relay delivers: a stream's records go out in batches; the sink answers with
 * one of a few outcomes. Outcomes are returned, not thrown: they are the expected results
 * of a hot path, and the relay's reaction depends on which one it is.
 */
export interface SinkBatch {
  /** Lake stream (table) name. */
  stream: string;
  /**
   * The records, each already serialized as JSON. The request body is exactly
   * `[` + records.join(',') + `]`, so the relay's byte budget is the exact body size.
   */
  records: readonly string[];
  /** Aborts the request (relay shutdown, or its database connection was lost). */
  signal?: AbortSignal;
  /** Extra request headers: the delivery span's trace context (`traceparent`), when tracing is on. */
  headers?: Readonly<Record<string, string>>;
}

export type SinkOutcome =
  /** The sink acknowledged every record. */
  | { kind: 'ok'; committed: number }
  /**
   * Not about any record (5xx, 429, timeout, connection refused, short `committed`):
   * retry the same batch later. `retryAfterMs` is the sink's own `Retry-After`.
   * `maybeDelivered` is true when the sink may have stored the batch (timeouts).
   */
  | { kind: 'retry'; error: string; status?: number; retryAfterMs?: number; maybeDelivered?: boolean }
  /** 401/403 or a wrong URL: the configuration is wrong. Retry slowly, alert, never park. */
  | { kind: 'config'; error: string; status: number }
  /** 413: the request is too large for the sink: split the batch. */
  | { kind: 'too_large'; error: string; status: number }
  /**
   * 400/422: the sink rejected the request because of its content. `recordIndexes`, when
   * the sink names them, are the positions (in this batch) of the offending records.
   */
  | { kind: 'rejected'; error: string; status: number; recordIndexes?: number[] };

export interface Sink {
  send(batch: SinkBatch): Promise<SinkOutcome>;
  /**
   * Checks a record against what the sink will store, before sending. Returns a reason
   * when the sink would drop or reject it (Pipelines silently drops records that do not
   * match the stream schema), or undefined when it is fine.
   */
  check?(stream: string, record: Record<string, unknown>): string | undefined;
  close?(): Promise<void>;
}
