import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createHttpSink } from '../../src/pipelines/httpSink.js';
import type { RelayOptions } from '../../src/relay/options.js';
import { createRelay, type Relay } from '../../src/relay/relay.js';
import { createTestDb, type TestDb } from './db.js';
import { type SinkServer, type SinkServerOptions, startSinkServer } from './sinkServer.js';

const running = new Set<Relay>();
const stopped = new WeakSet<Relay>();

/** An in-process relay on the test's schema delivering to the test's sink server. Quiet logs. */
export function testRelay(db: TestDb, sink: SinkServer, options: Partial<RelayOptions> = {}): Relay {
  const relay = createRelay({
    databaseUrl: db.databaseUrl,
    redisUrl: db.redisUrl,
    schema: db.schema,
    sink: createHttpSink({ url: sink.url, timeoutMs: 2000 }),
    sweepIntervalMs: 200,
    retry: { baseDelayMs: 50, maxDelayMs: 500 },
    logger: pino({ level: process.env.LAKEHOUSE_TEST_LOG ?? 'silent' }),
    ...options,
  });
  running.add(relay);
  const stop = relay.stop.bind(relay);
  (relay as { stop: () => Promise<void> }).stop = async () => {
    await stop();
    stopped.add(relay);
  };
  return relay;
}

/** Every relay a test started must have been stopped by the end of the test. */
export function checkRelaysStopped(): void {
  afterEach(async () => {
    const leaked = [...running].filter((r) => !stopped.has(r));
    running.clear();
    await Promise.all(leaked.map((r) => r.stop()));
    expect(leaked.length, 'relays left running by the test').toBe(0);
  });
}

/**
 * The per-file setup of relay tests: a fresh schema, sink servers started on demand (all
 * closed after the file), and the check that every relay was stopped.
 */
export function relayTestFile(testFile: string): {
  db: () => TestDb;
  sinkWith: (options?: SinkServerOptions) => Promise<SinkServer>;
} {
  let db: TestDb | undefined;
  const sinks: SinkServer[] = [];
  beforeAll(async () => {
    db = await createTestDb(testFile);
  });
  afterAll(async () => {
    await Promise.all(sinks.map((s) => s.close()));
    await db?.close();
  });
  checkRelaysStopped();
  return {
    db: () => db as TestDb,
    sinkWith: async (options = {}) => {
      const s = await startSinkServer(options);
      sinks.push(s);
      return s;
    },
  };
}
