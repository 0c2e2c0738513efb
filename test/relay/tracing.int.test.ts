import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { type ReceivedRequest, startServer, type TestServer } from '../support/httpServer.js';
import { relayTestFile, testRelay } from '../support/relay.js';
import type { SinkServer } from '../support/sinkServer.js';

const file = relayTestFile(import.meta.filename);
let db: TestDb;
let sink: TestServer;
beforeAll(async () => {
  db = file.db();
  sink = await startServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ committed: (JSON.parse(req.body) as unknown[]).length }));
  });
});
afterAll(async () => {
  await sink.close();
});

const emitOrder = async (id: string) => {
  await db.outbox.emit(db.pool, { stream: 'orders', data: order(id, 'trace') });
};
const metadataOf = async (id: string) =>
  (
    await db.pool.query<{ metadata: Record<string, string> }>(
      `SELECT metadata FROM "${db.schema}".events WHERE payload->>'order_id' = $1`,
      [id],
    )
  ).rows[0]?.metadata;
const requestWith = (id: string): ReceivedRequest | undefined =>
  sink.requests.find((r) => r.body.includes(`"order_id":"${id}"`));
const deliver = async () => {
  // testRelay's HTTP sink, pointed at this file's header-recording server.
  const relay = testRelay(db, { url: `${sink.url}/ingest/{stream}` } as SinkServer);
  try {
    await relay.runUntilIdle();
  } finally {
    await relay.stop();
  }
};
/** 00-<trace id>-<span id>-<flags> */
const parts = (traceparent: string) => {
  const [, traceId, spanId] = traceparent.split('-');
  return { traceId, spanId };
};

describe('OpenTelemetry tracing of emit → relay → sink', () => {
  it('adds nothing to the event or the request when no SDK is registered', async () => {
    await trace.getTracer('test').startActiveSpan('checkout', async (span) => {
      await emitOrder('plain-1');
      span.end();
    });
    expect(await metadataOf('plain-1')).toEqual({});
    await deliver();
    expect(requestWith('plain-1')?.headers.traceparent).toBeUndefined();
  });

  it("carries the emitter's trace id in the event metadata, to the relay's span and the sink's traceparent", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      const checkout = await trace.getTracer('test').startActiveSpan('checkout', async (span) => {
        await emitOrder('traced-1');
        span.end();
        return span.spanContext();
      });
      const stored = await metadataOf('traced-1');
      expect(parts(stored!.traceparent!)).toEqual({ traceId: checkout.traceId, spanId: checkout.spanId });

      await deliver();
      const deliverSpan = exporter.getFinishedSpans().find((s) => s.name === 'lakehouse deliver orders');
      expect(deliverSpan).toBeDefined();
      expect(deliverSpan!.spanContext().traceId).toBe(checkout.traceId);
      expect(deliverSpan!.parentSpanContext?.spanId).toBe(checkout.spanId);
      expect(deliverSpan!.links.map((l) => l.context.traceId)).toEqual([checkout.traceId]);
      expect(deliverSpan!.attributes['lakehouse.outcome']).toBe('ok');

      const header = requestWith('traced-1')?.headers.traceparent as string;
      expect(parts(header)).toEqual({ traceId: checkout.traceId, spanId: deliverSpan!.spanContext().spanId });
    } finally {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    }
  });
});
