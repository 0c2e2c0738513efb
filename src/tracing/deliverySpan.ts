import {
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { SinkOutcome } from '../relay/sink.js';

/** What a delivery span needs of each record: the trace context its event was emitted in. */
export interface TracedRecord {
  traceparent?: string | null;
  tracestate?: string | null;
}

const tracer = () => trace.getTracer('@company-manager/lakehouse');
/** Links per span: a batch of 1,000 events need not carry 1,000 links. */
const MAX_LINKS = 128;

function emitContext(r: TracedRecord): Context | undefined {
  if (!r.traceparent) return undefined;
  const carrier = { traceparent: r.traceparent, ...(r.tracestate ? { tracestate: r.tracestate } : {}) };
  const ctx = propagation.extract(ROOT_CONTEXT, carrier);
  return trace.getSpanContext(ctx) ? ctx : undefined;
}

/**
 * Runs one sink request inside a `lakehouse deliver <stream>` span (kind PRODUCER): a child
 * of the events' trace when they were all emitted in one, and linked to each event's
 * context (up to 128). `send` gets the headers that carry the span's context
 * (`traceparent`) to the sink. Without a registered OpenTelemetry SDK the span is a no-op
 * and the headers are empty.
 */
export async function traceDelivery(
  stream: string,
  records: readonly TracedRecord[],
  send: (headers: Record<string, string>) => Promise<SinkOutcome>,
): Promise<SinkOutcome> {
  // No propagator registered (no SDK): nothing to read or send, skip the per-record work.
  if (propagation.fields().length === 0) return send({});
  const unique = new Map<string, TracedRecord>();
  for (const r of records) if (r.traceparent && !unique.has(r.traceparent)) unique.set(r.traceparent, r);
  // traceparent is version-traceid-spanid-flags: the trace id is read without parsing all of them.
  const traceIds = new Set([...unique.keys()].map((t) => t.split('-')[1]));
  const allTraced = records.every((r) => r.traceparent);
  const contexts = [...unique.values()]
    .slice(0, MAX_LINKS)
    .map(emitContext)
    .filter((c): c is Context => c !== undefined);
  const parent = traceIds.size === 1 && allTraced && contexts[0] ? contexts[0] : ROOT_CONTEXT;
  const links: Link[] = contexts.map((c) => ({ context: trace.getSpanContext(c)! }));
  const span = tracer().startSpan(
    `lakehouse deliver ${stream}`,
    {
      kind: SpanKind.PRODUCER,
      links,
      attributes: { 'lakehouse.stream': stream, 'messaging.batch.message_count': records.length },
    },
    parent,
  );
  const headers: Record<string, string> = {};
  const active = trace.setSpan(parent, span);
  propagation.inject(active, headers);
  try {
    const outcome = await context.with(active, () => send(headers));
    span.setAttribute('lakehouse.outcome', outcome.kind);
    if (outcome.kind !== 'ok') span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
    return outcome;
  } catch (e) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
    throw e;
  } finally {
    span.end();
  }
}
