import type { ChildProcess } from 'node:child_process';
import { migrate } from '../src/outbox/migrate.js';
import {
  type BenchConfig,
  type BenchSink,
  type Figure,
  memoryOf,
  prefillOutbox,
  progress,
  q,
  ratioFigure,
  round,
  startRelayChild,
  waitUntil,
  withClient,
} from './lib.js';

const TENANTS = 200;
const MANY_TENANTS = 10_000;

/**
 * The raw PostgreSQL limit, as the issue defines it: the fastest plain-SQL loop we found
 * that deletes the next 1,000 pending rows **in position order across all partitions** and
 * returns their payloads (joined to `events`), one statement per batch, on one connection
 * (one ordered stream has no parallelism). It gets its own index on `pending (position)`
 * (the relay has none: it reads by lane), so the baseline is the best plain SQL can do.
 */
async function rawDrain(cfg: BenchConfig, schema: string, total: number): Promise<number> {
  const s = q(schema);
  await withClient(cfg.databaseUrl, (c) => c.query(`CREATE INDEX ON ${s}.pending (position)`));
  let drained = 0;
  const t0 = performance.now();
  await withClient(cfg.databaseUrl, async (c) => {
    for (;;) {
      const r = await c.query(
        `WITH d AS (
           DELETE FROM ${s}.pending WHERE position IN (SELECT position FROM ${s}.pending ORDER BY position LIMIT 1000)
           RETURNING position)
         SELECT e.event_id, e.event_type, e.payload FROM d JOIN ${s}.events e ON e.position = d.position
          ORDER BY d.position`,
      );
      drained += r.rows.length;
      if (r.rows.length < 1000) break;
    }
  });
  if (drained !== total) throw new Error(`raw drain read ${drained} of ${total}`);
  return drained / ((performance.now() - t0) / 1000);
}

/**
 * The relay paces each stream to 5 MB/s by default (the Pipelines per-stream limit): a
 * 1M-event drain of one stream would measure that pacing (~16k events/s), not the relay.
 * The drain figures lift it (1 GB/s) to measure what the relay itself can do.
 */
const UNPACED = String(1_000_000_000);

const exited = (p: ChildProcess) =>
  new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));

/** Drains a prefilled outbox with `n` relay processes; rate measured at the sink (first to last record). */
async function relayDrain(cfg: BenchConfig, schema: string, total: number, sink: BenchSink, n: number) {
  sink.reset();
  let half: { rssMiB: number; hwmMiB: number } | undefined;
  const children = Array.from({ length: n }, () =>
    startRelayChild(cfg, schema, sink.url, ['--until-idle', '--concurrency', '8', '--rate-limit', UNPACED]),
  );
  const pid = children[0]!.pid!;
  let peakRss = 0;
  const sampler = setInterval(() => {
    void memoryOf(pid).then((m) => {
      if (m) peakRss = Math.max(peakRss, m.rssMiB);
    });
  }, 200);
  let halfTaken = false;
  sink.onCount = (count) => {
    if (!halfTaken && count >= total / 2) {
      halfTaken = true;
      void memoryOf(pid).then((m) => {
        half = m;
      });
    }
  };
  const ok = await waitUntil(() => sink.received >= total, 30 * 60_000, 50);
  const rate = sink.received / ((sink.lastAt - sink.firstAt) / 1000);
  const end = await memoryOf(pid);
  clearInterval(sampler);
  const codes = await Promise.all(children.map(exited));
  if (!ok || codes.some((c) => c !== 0))
    throw new Error(`relay drain failed (exit codes ${codes.join(',')})`);
  return { rate, half, end, peakRss };
}

async function freshOutbox(cfg: BenchConfig, schema: string, total: number, tenants = TENANTS) {
  await migrate(cfg.databaseUrl, { schema });
  progress(`drain: prefilling ${total.toLocaleString('en')} events over ${tenants} tenants in ${schema}`);
  const t0 = performance.now();
  await prefillOutbox(cfg.databaseUrl, schema, total, tenants);
  progress(`drain: prefilled in ${round((performance.now() - t0) / 1000, 1)}s`);
}

/** Drains a fresh outbox of `total` events over `tenants` tenants with `n` relay processes, then drops it. */
async function measuredDrain(
  cfg: BenchConfig,
  sink: BenchSink,
  schema: string,
  total: number,
  tenants: number,
  n: number,
) {
  await freshOutbox(cfg, schema, total, tenants);
  progress(
    `drain: ${n} relay process(es), ${tenants} tenants (bin/lakehouse.js relay --until-idle --concurrency 8)`,
  );
  const r = await relayDrain(cfg, schema, total, sink, n);
  progress(`drain: ${round(r.rate, 0)} events/s; relay peak RSS ${r.end?.hwmMiB} MiB`);
  await withClient(cfg.databaseUrl, (c) => c.query(`DROP SCHEMA ${q(schema)} CASCADE`));
  return r;
}

/** Figures 2 and 5: relay drain throughput (200 and 10,000 tenants) vs the raw SQL limit, and the relay's memory. */
export async function benchDrain(
  cfg: BenchConfig,
  sink: BenchSink,
  schemas: (suffix: string) => string,
): Promise<Record<string, Figure>> {
  const total = cfg.quick ? 100_000 : 1_000_000;
  const rawSchema = schemas('raw');
  await freshOutbox(cfg, rawSchema, total, MANY_TENANTS);
  progress(
    'drain: raw SQL limit (DELETE the next 1,000 in position order across partitions, RETURNING payloads)',
  );
  const raw = await rawDrain(cfg, rawSchema, total);
  progress(`drain: raw ${round(raw, 0)} events/s`);
  await withClient(cfg.databaseUrl, (c) => c.query(`DROP SCHEMA ${q(rawSchema)} CASCADE`));

  const r1 = await measuredDrain(cfg, sink, schemas('relay1'), total, TENANTS, 1);
  const r2 = await measuredDrain(cfg, sink, schemas('relay2'), total, TENANTS, 2);
  const m1 = await measuredDrain(cfg, sink, schemas('many1'), total, MANY_TENANTS, 1);
  const m2 = await measuredDrain(cfg, sink, schemas('many2'), total, MANY_TENANTS, 2);

  const base = 'baseline = raw SQL drain in position order across all partitions (1 connection), same run';
  const note = `${total.toLocaleString('en')} events, ${TENANTS} tenants; ${base}`;
  const many = `${total.toLocaleString('en')} events, ${MANY_TENANTS.toLocaleString('en')} tenants (${total / MANY_TENANTS} each); ${base}`;
  return {
    drainOneRelay: ratioFigure(r1.rate, raw, 'events/s', 'ratio >= 0.5', (r) => r >= 0.5, note),
    drainTwoRelays: ratioFigure(r2.rate, raw, 'events/s', 'ratio >= 0.5', (r) => r >= 0.5, note),
    drainManyTenants: ratioFigure(m1.rate, raw, 'events/s', 'ratio >= 0.5', (r) => r >= 0.5, many),
    drainManyTenantsTwoRelays: ratioFigure(m2.rate, raw, 'events/s', 'ratio >= 0.6', (r) => r >= 0.6, many),
    relayPeakRss: {
      value: m1.end?.hwmMiB ?? Number.NaN,
      unit: 'MiB',
      goal: '< 200 MiB',
      goalMet: (m1.end?.hwmMiB ?? Number.POSITIVE_INFINITY) < 200,
      note: `VmHWM of the relay process after draining ${total.toLocaleString('en')} events over ${MANY_TENANTS.toLocaleString('en')} tenants`,
    },
    relayRssAtHalfBacklog: {
      value: m1.half?.rssMiB ?? Number.NaN,
      unit: 'MiB',
      note: `VmRSS when half the backlog was delivered (VmHWM then: ${m1.half?.hwmMiB} MiB)`,
    },
  };
}
