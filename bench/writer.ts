import pg from 'pg';
import { createOutbox } from '../src/outbox/outbox.js';
import { type BenchConfig, benchOrder, type Figure, progress, q, ratioFigure, round, sleep } from './lib.js';

const CLIENTS = 16;

/**
 * Runs `CLIENTS` connections, each looping BEGIN; business insert; [emit]; COMMIT for
 * `seconds`. Returns transactions per second.
 */
async function runWriters(
  cfg: BenchConfig,
  schema: string,
  mode: 'none' | 'emit' | 'fused',
  seconds: number,
) {
  const outbox = createOutbox({ schema });
  const s = q(schema);
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const c = new pg.Client({ connectionString: cfg.databaseUrl });
      await c.connect();
      return c;
    }),
  );
  let done = 0;
  let seq = 0;
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, w) => {
      while (performance.now() < deadline) {
        const i = seq++;
        const tenant = `tenant-${(i * 7 + w) % 200}`;
        const business = (tx: pg.Client) =>
          tx.query(`INSERT INTO ${s}.bench_orders (order_id, tenant_id, total_amount) VALUES ($1, $2, $3)`, [
            `o-${i}`,
            tenant,
            10.5,
          ]);
        if (mode === 'fused') {
          await outbox.transaction(c, async (tx) => {
            await business(c);
            tx.emit({ stream: 'orders', data: benchOrder(i, tenant) });
          });
        } else {
          await c.query('BEGIN');
          await business(c);
          if (mode === 'emit') await outbox.emit(c, { stream: 'orders', data: benchOrder(i, tenant) });
          await c.query('COMMIT');
        }
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.end()));
  return done / elapsed;
}

/** Figure 1: what emitting an event costs the business transaction, and a 100-event emit. */
export async function benchWriter(cfg: BenchConfig, schema: string): Promise<Record<string, Figure>> {
  const seconds = cfg.quick ? 5 : 20;
  const s = q(schema);
  const c = new pg.Client({ connectionString: cfg.databaseUrl });
  await c.connect();
  await c.query(
    `CREATE TABLE ${s}.bench_orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id text NOT NULL,
       tenant_id text NOT NULL, total_amount numeric(18,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
  );
  progress(`writer: ${CLIENTS} clients, ${seconds}s without emit (baseline)`);
  const without = await runWriters(cfg, schema, 'none', seconds);
  await sleep(500);
  progress(`writer: ${CLIENTS} clients, ${seconds}s with emit`);
  const withEmit = await runWriters(cfg, schema, 'emit', seconds);
  await sleep(500);
  progress(`writer: ${CLIENTS} clients, ${seconds}s with outbox.transaction (events sent with COMMIT)`);
  const fused = await runWriters(cfg, schema, 'fused', seconds);
  progress(
    `writer: ${round(without, 0)} tps without, ${round(withEmit, 0)} with emit, ${round(fused, 0)} with events sent with COMMIT`,
  );

  progress(`writer: 100-event emits in one transaction, ${Math.min(seconds, 10)}s`);
  const outbox = createOutbox({ schema });
  let events = 0;
  let n = 0;
  const deadline = performance.now() + Math.min(seconds, 10) * 1000;
  const t0 = performance.now();
  while (performance.now() < deadline) {
    const batch = Array.from({ length: 100 }, (_, k) => {
      const i = 10_000_000 + n * 100 + k;
      return { stream: 'orders' as const, data: benchOrder(i, `tenant-${i % 200}`) };
    });
    n++;
    await c.query('BEGIN');
    const r = await outbox.emit(c, ...batch);
    await c.query('COMMIT');
    events += r.written;
  }
  const batchRate = events / ((performance.now() - t0) / 1000);
  await c.end();
  return {
    writerTps: ratioFigure(
      withEmit,
      without,
      'transactions/s',
      'ratio >= 0.6',
      (r) => r >= 0.6,
      `${CLIENTS} clients, ${seconds}s each; baseline = same transaction without emit`,
    ),
    writerTpsFused: ratioFigure(
      fused,
      without,
      'transactions/s',
      'ratio >= 0.75',
      (r) => r >= 0.75,
      `${CLIENTS} clients, ${seconds}s; outbox.transaction: the event goes in the same round trip as COMMIT`,
    ),
    emit100EventsPerSecond: {
      value: round(batchRate, 0),
      unit: 'events/s',
      note: 'one client, 100 events per emit call and transaction',
    },
  };
}
