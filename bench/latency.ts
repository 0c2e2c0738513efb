import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '../src/outbox/migrate.js';
import { createOutbox } from '../src/outbox/outbox.js';
import { createHttpSink } from '../src/pipelines/httpSink.js';
import { createRelay } from '../src/relay/relay.js';
import {
  type BenchConfig,
  type BenchSink,
  type Figure,
  percentile,
  progress,
  round,
  sleep,
  waitUntil,
} from './lib.js';

const RATE = 2000;
const EVENTS_PER_TX = 5;
const WRITERS = 8;
const TENANTS = 2000;

/**
 * Figure 4: commit -> sink acknowledgement at a steady 2,000 events/s (transactions of 5
 * events for one tenant, 2,000 tenants), an in-process relay woken after each commit with
 * `relay.wake(result.partitions)`. Commit time is taken when COMMIT returns; arrival time
 * when the sink has read the request (same process clock).
 */
export async function benchLatency(
  cfg: BenchConfig,
  sink: BenchSink,
  schema: string,
): Promise<Record<string, Figure>> {
  const seconds = cfg.quick ? 10 : 30;
  await migrate(cfg.databaseUrl, { schema });
  const outbox = createOutbox({ schema });
  const relay = createRelay({
    databaseUrl: cfg.databaseUrl,
    redisUrl: cfg.redisUrl,
    schema,
    sink: createHttpSink({ url: sink.url }),
    concurrency: 8,
    queueName: `${schema}_queue`,
    logger: pino({ level: 'warn' }, pino.destination(2)),
  });
  await relay.start();
  sink.reset();
  sink.trackIds = true;
  const commits = new Map<string, number>();
  const clients = await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      const c = new pg.Client({ connectionString: cfg.databaseUrl });
      await c.connect();
      return c;
    }),
  );
  progress(`latency: ${RATE} events/s for ${seconds}s`);
  let issued = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let behind = 0;
  await Promise.all(
    clients.map(async (c, w) => {
      while (performance.now() < end) {
        const due = ((performance.now() - t0) / 1000) * RATE;
        if (issued >= due) {
          await sleep(2);
          continue;
        }
        if (due - issued > RATE / 10) behind++;
        const n = issued;
        issued += EVENTS_PER_TX;
        const tenant = `tenant-${(n / EVENTS_PER_TX + w) % TENANTS}`;
        const events = Array.from({ length: EVENTS_PER_TX }, (_, k) => ({
          stream: 'orders' as const,
          data: {
            order_id: `o-${n + k}`,
            tenant_id: tenant,
            site_id: 's1',
            customer_id: null,
            total_amount: 10.5,
            currency: 'EUR',
            status: 'placed' as const,
            payment_method: 'card',
            item_count: 1,
            created_at: '2026-02-01T10:00:00Z',
          },
        }));
        const envelopes = outbox.prepare(events);
        await c.query('BEGIN');
        const r = await outbox.emit(c, ...envelopes);
        await c.query('COMMIT');
        const at = performance.now();
        for (const e of envelopes) commits.set(e.event_id, at);
        void relay.wake(r.partitions);
      }
    }),
  );
  const actualRate = commits.size / ((performance.now() - t0) / 1000);
  await waitUntil(() => sink.arrivals.size >= commits.size, 30_000);
  await Promise.all(clients.map((c) => c.end()));
  await relay.stop();
  sink.trackIds = false;
  const lat: number[] = [];
  let missing = 0;
  for (const [id, at] of commits) {
    const got = sink.arrivals.get(id);
    if (got === undefined) missing++;
    else lat.push(got - at);
  }
  lat.sort((a, b) => a - b);
  const p = (x: number) => round(percentile(lat, x), 1);
  progress(`latency: p50 ${p(50)} ms, p95 ${p(95)} ms, p99 ${p(99)} ms (${missing} missing)`);
  const note = `${commits.size} events at ${round(actualRate, 0)} events/s achieved (${EVENTS_PER_TX} per transaction, ${TENANTS} tenants, ${WRITERS} writers), ${missing} not acknowledged${behind > 0 ? `, writers fell behind ${behind} times` : ''}`;
  return {
    latencyP50: { value: p(50), unit: 'ms', note },
    latencyP95: { value: p(95), unit: 'ms' },
    latencyP99: { value: p(99), unit: 'ms', goal: '< 100 ms', goalMet: p(99) < 100 },
  };
}
