import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
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
  waitUntil,
  withClient,
} from './lib.js';

const TENANTS = 200;
const BIN = fileURLToPath(new URL('../bin/lakehouse.js', import.meta.url));

/**
 * The raw PostgreSQL limit: the fastest plain-SQL loop we found that reads a partition's
 * pending rows in position order, 1,000 at a time, joined to `events` for the payload, and
 * DELETEs them, one statement per batch; two connections (one per core) over the partitions.
 */
async function rawDrain(cfg: BenchConfig, schema: string, total: number): Promise<number> {
  const s = q(schema);
  const parts = await withClient(cfg.databaseUrl, async (c) => {
    const r = await c.query<{ partition_key: string }>(`SELECT DISTINCT partition_key FROM ${s}.pending`);
    return r.rows.map((x) => x.partition_key);
  });
  let next = 0;
  let drained = 0;
  const t0 = performance.now();
  await Promise.all(
    [0, 1].map(async () => {
      const c = new pg.Client({ connectionString: cfg.databaseUrl });
      await c.connect();
      try {
        for (let p = parts[next++]; p !== undefined; p = parts[next++]) {
          for (;;) {
            const r = await c.query(
              `WITH b AS (
                 SELECT position FROM ${s}.pending WHERE stream = 'orders' AND partition_key = $1
                  ORDER BY position LIMIT 1000),
               d AS (
                 DELETE FROM ${s}.pending p USING b
                  WHERE p.stream = 'orders' AND p.partition_key = $1 AND p.position = b.position
                 RETURNING p.position)
               SELECT e.event_id, e.event_type, e.payload FROM d JOIN ${s}.events e ON e.position = d.position
                ORDER BY d.position`,
              [p],
            );
            drained += r.rows.length;
            if (r.rows.length < 1000) break;
          }
        }
      } finally {
        await c.end();
      }
    }),
  );
  if (drained !== total) throw new Error(`raw drain read ${drained} of ${total}`);
  return drained / ((performance.now() - t0) / 1000);
}

/**
 * The relay paces each stream to 5 MB/s by default (the Pipelines per-stream limit): a
 * 1M-event drain of one stream would measure that pacing (~16k events/s), not the relay.
 * The drain figures lift it (1 GB/s) to measure what the relay itself can do.
 */
const UNPACED = String(1_000_000_000);

function startRelayChild(cfg: BenchConfig, schema: string, sinkUrl: string): ChildProcess {
  return spawn(
    process.execPath,
    [BIN, 'relay', '--until-idle', '--concurrency', '8', '--rate-limit', UNPACED],
    {
      env: {
        ...process.env,
        DATABASE_URL: cfg.databaseUrl,
        REDIS_URL: cfg.redisUrl,
        LAKEHOUSE_DB_SCHEMA: schema,
        LAKEHOUSE_SINK_URL: sinkUrl,
        LAKEHOUSE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

const exited = (p: ChildProcess) =>
  new Promise<number | null>((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));

/** Drains a prefilled outbox with `n` relay processes; rate measured at the sink (first to last record). */
async function relayDrain(cfg: BenchConfig, schema: string, total: number, sink: BenchSink, n: number) {
  sink.reset();
  let half: { rssMiB: number; hwmMiB: number } | undefined;
  const children = Array.from({ length: n }, () => startRelayChild(cfg, schema, sink.url));
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

async function freshOutbox(cfg: BenchConfig, schema: string, total: number) {
  await migrate(cfg.databaseUrl, { schema });
  progress(`drain: prefilling ${total.toLocaleString('en')} events over ${TENANTS} tenants in ${schema}`);
  const t0 = performance.now();
  await prefillOutbox(cfg.databaseUrl, schema, total, TENANTS);
  progress(`drain: prefilled in ${round((performance.now() - t0) / 1000, 1)}s`);
}

/** Figures 2 and 5: relay drain throughput vs the raw SQL limit, and the relay process's memory. */
export async function benchDrain(
  cfg: BenchConfig,
  sink: BenchSink,
  schemas: (suffix: string) => string,
): Promise<Record<string, Figure>> {
  const total = cfg.quick ? 100_000 : 1_000_000;
  const rawSchema = schemas('raw');
  await freshOutbox(cfg, rawSchema, total);
  progress('drain: raw SQL limit (DELETE ... RETURNING joined to events, batches of 1000)');
  const raw = await rawDrain(cfg, rawSchema, total);
  progress(`drain: raw ${round(raw, 0)} events/s`);
  await withClient(cfg.databaseUrl, (c) => c.query(`DROP SCHEMA ${q(rawSchema)} CASCADE`));

  const one = schemas('relay1');
  await freshOutbox(cfg, one, total);
  progress('drain: one relay process (bin/lakehouse.js relay --until-idle --concurrency 8)');
  const r1 = await relayDrain(cfg, one, total, sink, 1);
  progress(`drain: one relay ${round(r1.rate, 0)} events/s; peak RSS ${r1.end?.hwmMiB} MiB`);
  await withClient(cfg.databaseUrl, (c) => c.query(`DROP SCHEMA ${q(one)} CASCADE`));

  const two = schemas('relay2');
  await freshOutbox(cfg, two, total);
  progress('drain: two relay processes');
  const r2 = await relayDrain(cfg, two, total, sink, 2);
  progress(`drain: two relays ${round(r2.rate, 0)} events/s`);
  await withClient(cfg.databaseUrl, (c) => c.query(`DROP SCHEMA ${q(two)} CASCADE`));

  const note = `${total.toLocaleString('en')} events, ${TENANTS} tenants; baseline = raw SQL drain (2 connections) on an identical copy`;
  return {
    drainOneRelay: ratioFigure(r1.rate, raw, 'events/s', 'ratio >= 0.5', (r) => r >= 0.5, note),
    drainTwoRelays: ratioFigure(r2.rate, raw, 'events/s', 'ratio >= 0.5', (r) => r >= 0.5, note),
    relayPeakRss: {
      value: r1.end?.hwmMiB ?? Number.NaN,
      unit: 'MiB',
      goal: '< 200 MiB',
      goalMet: (r1.end?.hwmMiB ?? Number.POSITIVE_INFINITY) < 200,
      note: `VmHWM of the relay process after draining ${total.toLocaleString('en')} events`,
    },
    relayRssAtHalfBacklog: {
      value: r1.half?.rssMiB ?? Number.NaN,
      unit: 'MiB',
      note: `VmRSS when half the backlog was delivered (VmHWM then: ${r1.half?.hwmMiB} MiB)`,
    },
  };
}
