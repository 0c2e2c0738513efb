import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/outbox/migrate.js';
import { assertDelivered, checkDelivery, type ExpectedEvent } from '../support/checker.js';
import { runCli, startCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { order } from '../support/fixtures.js';
import { startPrivatePostgres, startPrivateRedis } from '../support/services.js';
import { type SinkServer, startSinkServer, waitFor } from '../support/sinkServer.js';

/**
 * The relay as real processes: `lakehouse emit` and `lakehouse relay` children, killed with
 * SIGKILL, several at once, and Redis and PostgreSQL disrupted under them.
 */
let db: TestDb;
const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await db.close();
});

async function sinkWith(options: Parameters<typeof startSinkServer>[0] = {}): Promise<SinkServer> {
  const s = await startSinkServer(options);
  cleanups.push(() => s.close());
  return s;
}

/** Writes NDJSON orders through `lakehouse emit` and returns them in emit order. */
async function emitOrders(
  env: NodeJS.ProcessEnv,
  prefix: string,
  tenants: number,
  count: number,
): Promise<ExpectedEvent[]> {
  const lines: string[] = [];
  const expected: ExpectedEvent[] = [];
  for (let i = 0; i < count; i++) {
    const tenant = `${prefix}-t${i % tenants}`;
    const eventId = crypto.randomUUID();
    lines.push(JSON.stringify({ event_id: eventId, ...order(`${prefix}-${i}`, tenant) }));
    expected.push({ event_id: eventId, stream: 'orders', partitionKey: tenant });
  }
  const r = await runCli(['emit', 'orders', '-', '--json', '--batch-size', '1000'], {
    env,
    input: `${lines.join('\n')}\n`,
  });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ written: count, duplicates: 0, rejected: 0 });
  return expected;
}

const relayEnv = (env: NodeJS.ProcessEnv, sink: SinkServer) => ({
  ...env,
  LAKEHOUSE_SINK_URL: sink.url,
  LAKEHOUSE_LOG_LEVEL: 'warn',
});

async function pendingOrders(env: NodeJS.ProcessEnv): Promise<number> {
  const r = await runCli(['status', '--json'], { env });
  return JSON.parse(r.stdout).streams.find((s: { stream: string }) => s.stream === 'orders').pending;
}

describe('relay processes', () => {
  it('20,000 orders over 50 tenants, 25% of requests failing with 500, relay SIGKILLed midway: all arrive in order per tenant', async () => {
    const sink = await sinkWith({ failRate: 0.25, seed: 3, latencyMs: 2 });
    const expected = await emitOrders(db.env, 'kill', 50, 20_000);
    const env = relayEnv(db.env, sink);
    const first = startCli(['relay', '--until-idle', '--concurrency', '4'], env);
    await waitFor(() => sink.received().length >= 5_000, { timeoutMs: 60_000 });
    expect(await first.kill('SIGKILL')).toBe('SIGKILL');
    const delivered = sink.received().length;
    expect(delivered).toBeLessThan(20_000);
    const second = startCli(['relay', '--until-idle', '--concurrency', '4'], env);
    expect(await second.exited, second.stderr()).toBe(0);
    const result = checkDelivery({ expected, received: sink.received() });
    assertDelivered(result);
    expect(await pendingOrders(env)).toBe(0);
    const status = JSON.parse((await runCli(['status', '--json'], { env })).stdout).streams[0];
    expect(status.delivered).toBe(20_000);
    expect(status.duplicatesResent).toBeGreaterThanOrEqual(result.duplicates);
  });

  it('three relay processes at once never have two batches of one partition in flight, and order holds', async () => {
    const sink = await sinkWith({ latencyMs: 10 });
    const expected = await emitOrders(db.env, 'multi', 6, 3_000);
    const env = relayEnv(db.env, sink);
    const relays = [1, 2, 3].map(() => startCli(['relay', '--until-idle', '--concurrency', '4'], env));
    for (const r of relays) expect(await r.exited, r.stderr()).toBe(0);
    assertDelivered(
      checkDelivery({
        expected,
        received: sink.received().filter((r) => String(r.record.tenant_id).startsWith('multi-')),
      }),
      {
        maxDuplicates: 0,
      },
    );
    expect(sink.maxInFlightPerPartition).toBe(1);
    expect(sink.maxInFlight).toBeGreaterThan(1); // the processes did work in parallel
  });

  it('recovers from Redis FLUSHALL and from a Redis restart mid-run, from PostgreSQL state alone', async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const sink = await sinkWith({ latencyMs: 5 });
    const env = { ...relayEnv(db.env, sink), REDIS_URL: redis.url };
    const expected = await emitOrders(env, 'redis', 10, 4_000);
    const relay = startCli(
      ['relay', '--until-idle', '--concurrency', '2', '--sweep-interval-ms', '200'],
      env,
    );
    const received = () =>
      sink.received().filter((r) => String(r.record.tenant_id).startsWith('redis-')).length;
    await waitFor(() => received() >= 1_000, { timeoutMs: 60_000 });
    await redis.flushAll();
    await waitFor(() => received() >= 2_500, { timeoutMs: 60_000 });
    await redis.restart();
    expect(await relay.exited, relay.stderr()).toBe(0);
    assertDelivered(
      checkDelivery({
        expected,
        received: sink.received().filter((r) => String(r.record.tenant_id).startsWith('redis-')),
      }),
    );
  });

  it('reconnects and finishes after PostgreSQL is crash-restarted mid-delivery', async () => {
    const server = await startPrivatePostgres();
    cleanups.push(() => server.stop());
    await migrate(server.url, { schema: 'lakehouse' });
    const sink = await sinkWith({ latencyMs: 5 });
    const env = { ...relayEnv(db.env, sink), DATABASE_URL: server.url, LAKEHOUSE_DB_SCHEMA: 'lakehouse' };
    const expected = await emitOrders(env, 'pgrestart', 10, 4_000);
    const relay = startCli(['relay', '--until-idle', '--concurrency', '4'], env);
    await waitFor(() => sink.received().length >= 1_000, { timeoutMs: 60_000 });
    await server.restart();
    expect(await relay.exited, relay.stderr()).toBe(0);
    assertDelivered(checkDelivery({ expected, received: sink.received() }));
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    const { rows } = await c.query('SELECT count(*)::int AS n FROM lakehouse.pending');
    await c.end();
    expect(rows[0].n).toBe(0);
  });

  it('shows the batch in flight in status, stops within 10 s on SIGTERM, and the batch is delivered later', async () => {
    const sink = await sinkWith({ latencyMs: 60_000 });
    const expected = await emitOrders(db.env, 'sigterm', 1, 10);
    const env = relayEnv(db.env, sink);
    const relay = startCli(['relay'], env);
    await waitFor(() => sink.inFlight > 0, { timeoutMs: 20_000 });
    const during = JSON.parse((await runCli(['status', '--json'], { env })).stdout).streams[0];
    expect(during).toMatchObject({ stream: 'orders', inFlight: 1, pending: 10 });
    const t0 = Date.now();
    expect(await relay.kill('SIGTERM')).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await sink.setFaults({ latencyMs: 0 });
    const again = startCli(['relay', '--until-idle'], env);
    expect(await again.exited).toBe(0);
    assertDelivered(
      checkDelivery({
        expected,
        received: sink.received().filter((r) => String(r.record.tenant_id).startsWith('sigterm-')),
      }),
    );
  });
});
