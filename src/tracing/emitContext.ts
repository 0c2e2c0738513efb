import { context, propagation } from '@opentelemetry/api';
import type { EventMetadata } from '../domain/envelope.js';

/**
 * The event's metadata with the caller's active trace context (W3C `traceparent`, and
 * `tracestate` when there is one), injected through the OpenTelemetry propagation API.
 * A no-op unless the application registered an SDK (a propagator and a context manager),
 * and metadata that already carries a `traceparent` (set by the caller, or by the system
 * that emitted it first) is kept as it is.
 */
export function withTraceContext(metadata: EventMetadata): EventMetadata {
  if (metadata.traceparent) return metadata;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return metadata;
  return {
    ...metadata,
    traceparent: carrier.traceparent,
    // The metadata keeps at most 512 characters of tracestate (it is optional context).
    ...(carrier.tracestate && carrier.tracestate.length <= 512 ? { tracestate: carrier.tracestate } : {}),
  };
}
