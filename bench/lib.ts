import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** Settings of one benchmark run, from the command line and the environment. */
export interface BenchConfig {
  quick: boolean;
  json: boolean;
  databaseUrl: string;
  redisUrl: string;
  /** Own PostgreSQL schema prefix of this run (dropped at the end). */
  schema: string;
  /** Only these figures (`--only writer,drain`); all when empty. */
  only: string[];
}

/** One measured figure: `value` in `unit`, with the same-run baseline and goal where they apply. */
export interface Figure {
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  goal?: string;
  goalMet?: boolean;
  note?: string;
}

export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

export const round = (v: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function withClient<T>(databaseUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Facts about the machine recorded with every result. */
export async function machineFacts(databaseUrl: string) {
  const pgVersion = await withClient(databaseUrl, async (c) => {
    const r = await c.query<{ server_version: string }>('SHOW server_version');
    return r.rows[0]!.server_version;
  });
  return {
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    loadAverage1m: round(os.loadavg()[0]!, 2),
    postgres: pgVersion,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** Quotes a schema name made by this bench (lower-case letters, digits, `_`). */
export function q(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad identifier ${name}`);
  return `"${name}"`;
}

/**
 * Fills the outbox of `schema` with `count` valid `orders` events over `tenants` partitions,
 * in the outbox's own format (events + pending in its lane), with INSERT ... SELECT generate_series:
 * the same rows `emit` writes (payload = the normalized lake record), in chunks so that one
 * statement never holds a million rows' worth of WAL at once.
 */
export async function prefillOutbox(
  databaseUrl: string,
  schema: string,
  count: number,
  tenants: number,
): Promise<void> {
  const s = q(schema);
  await withClient(databaseUrl, async (c) => {
    const chunk = 250_000;
    for (let from = 1; from <= count; from += chunk) {
      const to = Math.min(count, from + chunk - 1);
      await c.query(
        `WITH ins AS (
           INSERT INTO ${s}.events (event_id, stream, partition_key, event_type, tenant_id, occurred_at,
                                    schema_version, payload, metadata)
           SELECT gen_random_uuid(), 'orders', 'tenant-' || (g % $3), 'order.recorded', 'tenant-' || (g % $3),
                  now(), 1,
                  jsonb_build_object('order_id', 'o' || g, 'tenant_id', 'tenant-' || (g % $3), 'site_id', 's1',
                    'customer_id', 'c' || (g % 997), 'total_amount', 10.5, 'currency', 'EUR',
                    'status', 'placed', 'payment_method', 'card', 'item_count', 1,
                    'created_at', '2026-02-01T10:00:00.000Z'),
                  '{}'::jsonb
             FROM generate_series($1::bigint, $2::bigint) g
            ORDER BY g
           RETURNING stream, partition_key, position)
         INSERT INTO ${s}.pending (stream, lane, partition_key, position)
         SELECT stream, ${s}.lane_of(partition_key, (SELECT lane_count FROM ${s}.settings)), partition_key, position
           FROM ins`,
        [from, to, tenants],
      );
    }
    await c.query(`VACUUM ANALYZE ${s}.events`);
    await c.query(`VACUUM ANALYZE ${s}.pending`);
  });
}

/** A fast local sink: answers `{"committed":N}` to every POST, counts records, optionally timestamps them. */
export interface BenchSink {
  url: string;
  received: number;
  firstAt: number;
  lastAt: number;
  /** Arrival time (performance.now()) per event_id, when `trackIds` is on. */
  arrivals: Map<string, number>;
  trackIds: boolean;
  /** Called after each request with the running count. */
  onCount?: (n: number) => void;
  reset(): void;
  close(): Promise<void>;
}

export async function startBenchSink(): Promise<BenchSink> {
  const sink: BenchSink = {
    url: '',
    received: 0,
    firstAt: 0,
    lastAt: 0,
    arrivals: new Map(),
    trackIds: false,
    reset() {
      sink.received = 0;
      sink.firstAt = 0;
      sink.lastAt = 0;
      sink.arrivals = new Map();
      sink.onCount = undefined;
    },
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const now = performance.now();
      let records: { event_id?: string }[] = [];
      try {
        records = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        res.writeHead(400).end('{"success":false}');
        return;
      }
      if (sink.firstAt === 0) sink.firstAt = now;
      sink.lastAt = now;
      sink.received += records.length;
      if (sink.trackIds) for (const r of records) if (r.event_id) sink.arrivals.set(r.event_id, now);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"committed":${records.length}}`);
      sink.onCount?.(sink.received);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest/{stream}`;
  sink.close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return sink;
}

/** Waits until `cond()` holds, polling; false on timeout. */
export async function waitUntil(cond: () => boolean, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(pollMs);
  }
  return true;
}

/** Reads VmRSS and VmHWM (MiB) of a process from /proc. */
export async function memoryOf(pid: number): Promise<{ rssMiB: number; hwmMiB: number } | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(text)?.[1] ?? Number.NaN);
    return { rssMiB: round(kb('VmRSS') / 1024, 1), hwmMiB: round(kb('VmHWM') / 1024, 1) };
  } catch {
    return undefined;
  }
}

export function ratioFigure(
  value: number,
  baseline: number,
  unit: string,
  goal: string,
  met: (ratio: number) => boolean,
  note?: string,
): Figure {
  const ratio = round(value / baseline, 3);
  return {
    value: round(value, 1),
    baseline: round(baseline, 1),
    ratio,
    unit,
    goal,
    goalMet: met(ratio),
    ...(note ? { note } : {}),
  };
}

const BIN = fileURLToPath(new URL('../bin/lakehouse.js', import.meta.url));

/** A `bin/lakehouse.js relay <args>` child on the run's database, Redis and schema, delivering to `sinkUrl`. */
export function startRelayChild(
  cfg: BenchConfig,
  schema: string,
  sinkUrl: string,
  args: string[],
): ChildProcess {
  return spawn(process.execPath, [BIN, 'relay', ...args], {
    env: {
      ...process.env,
      DATABASE_URL: cfg.databaseUrl,
      REDIS_URL: cfg.redisUrl,
      LAKEHOUSE_DB_SCHEMA: schema,
      LAKEHOUSE_SINK_URL: sinkUrl,
      LAKEHOUSE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** A valid `orders` event's data for the writer and latency figures. */
export function benchOrder(i: number, tenant: string) {
  return {
    order_id: `o-${i}`,
    tenant_id: tenant,
    site_id: 's1',
    customer_id: `c-${i % 997}`,
    total_amount: 10.5,
    currency: 'EUR',
    status: 'placed' as const,
    payment_method: 'card',
    item_count: 1,
    created_at: '2026-02-01T10:00:00Z',
  };
}
