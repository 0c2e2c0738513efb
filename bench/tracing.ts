import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { SinkOutcome } from '../src/relay/sink.js';
import { traceDelivery } from '../src/tracing/deliverySpan.js';

/**
 * `npx tsx bench/tracing.ts [batches]`: CPU cost of the relay's tracing hook per batch of
 * 1,000 records, each carrying a `traceparent`: the sink call alone (baseline, same run),
 * wrapped without an SDK (the default: a no-op), and wrapped with an in-memory SDK.
 */
const batches = Number(process.argv[2] ?? 2000);
const records = Array.from({ length: 1000 }, (_, i) => ({
  traceparent: `00-${(i % 7).toString(16).padStart(32, '1')}-${i.toString(16).padStart(16, '2')}-01`,
}));
const ok: SinkOutcome = { kind: 'ok', committed: records.length };
const send = async () => ok;

async function usPerBatch(wrapped: boolean): Promise<number> {
  const run = () => (wrapped ? traceDelivery('orders', records, send) : send());
  for (let i = 0; i < 100; i++) await run();
  const t = process.hrtime.bigint();
  for (let i = 0; i < batches; i++) await run();
  return Number(process.hrtime.bigint() - t) / 1000 / batches;
}

const baseline = await usPerBatch(false);
const noSdk = await usPerBatch(true);
const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const withSdk = await usPerBatch(true);
console.log(
  JSON.stringify({
    batches,
    recordsPerBatch: records.length,
    baselineUsPerBatch: Number(baseline.toFixed(2)),
    noSdkUsPerBatch: Number(noSdk.toFixed(2)),
    withSdkUsPerBatch: Number(withSdk.toFixed(2)),
    spans: exporter.getFinishedSpans().length,
  }),
);
