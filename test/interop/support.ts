import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CLI, runCli } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READERS = fileURLToPath(new URL('./py/readers.py', import.meta.url));

/** What `scripts/interop-setup.sh` installed: the virtualenv's python and Spark's Iceberg runtime jar. */
export function interopEnv(): { python: string; sparkRuntimeJar: string } {
  try {
    return JSON.parse(readFileSync(`${ROOT}.interop/env.json`, 'utf8'));
  } catch {
    throw new Error('the interop environment is missing: run `bash scripts/interop-setup.sh` first');
  }
}

const tail = (s: string, n = 3000) => (s.length > n ? `…${s.slice(-n)}` : s);

/** One reference engine in a Python child process, answering JSON-line requests (py/readers.py). */
export interface Reader {
  engine: string;
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

/** Starts `py/readers.py <engine>` against the REST catalog at `catalog` and waits until it is ready. */
export async function startReader(
  engine: 'pyiceberg' | 'spark' | 'duckdb',
  catalog: string,
): Promise<Reader> {
  const env = interopEnv();
  const child = spawn(env.python, [READERS, engine, JSON.stringify({ catalog, ...env })], {
    stdio: ['pipe', 'pipe', 'pipe'],
    // Spark binds to loopback rather than looking up the machine's address.
    env: {
      ...process.env,
      TZ: 'UTC',
      PYTHONUNBUFFERED: '1',
      PYTHONDONTWRITEBYTECODE: '1',
      SPARK_LOCAL_IP: '127.0.0.1',
    },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = tail(stderr + d, 20_000);
  });
  const waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  const fail = (why: string) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`${engine}: ${why}\n${tail(stderr)}`));
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('@@interop ')) return;
    const msg = JSON.parse(line.slice('@@interop '.length)) as { ok?: unknown; error?: string };
    const w = waiting.shift();
    if (!w) return;
    if (msg.error !== undefined) w.reject(new Error(`${engine}: ${msg.error}`));
    else w.resolve(msg.ok);
  });
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code, signal) => {
      fail(`reader exited (${code ?? signal})`);
      resolve();
    }),
  );
  child.stdin!.on('error', () => {});
  const next = () => new Promise<unknown>((resolve, reject) => waiting.push({ resolve, reject }));
  await next(); // "ready"
  return {
    engine,
    call: <T>(op: string, args: Record<string, unknown> = {}) => {
      const answer = next() as Promise<T>;
      child.stdin!.write(`${JSON.stringify({ op, args })}\n`);
      return answer;
    },
    close: async () => {
      child.stdin!.end();
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** `lakehouse serve` as a child process on a free port; `url` is where it listens. */
export async function startServe(
  warehouse: string,
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--warehouse', warehouse, '--no-dashboard', '--roll-interval-ms', '200'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = tail(err + d);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => {
      const listening = (JSON.parse(line) as { listening?: string }).listening;
      if (listening) resolve(listening);
      else reject(new Error(`lakehouse serve printed ${line}`));
    });
    child.once('exit', (code) => reject(new Error(`lakehouse serve exited ${code}: ${err}`)));
  });
  return {
    url,
    child,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Runs a `lakehouse` command that must succeed and returns its standard output. */
export async function lakehouse(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  const r = await runCli(args, { env, ...(input !== undefined ? { input } : {}) });
  if (r.code !== 0) throw new Error(`lakehouse ${args.join(' ')} exited ${r.code}: ${tail(r.stderr)}`);
  return r.stdout;
}

export interface QueryAnswer {
  schema: { name: string; type: string }[];
  rows: Record<string, unknown>[];
}

/** `lakehouse query --json <sql>` over the warehouse: our own answer. */
export async function ourQuery(warehouse: string, sql: string, env: NodeJS.ProcessEnv): Promise<QueryAnswer> {
  const out = JSON.parse(await lakehouse(['query', '--json', '--warehouse', warehouse, sql], env)) as {
    success: boolean;
    result: QueryAnswer;
  };
  if (!out.success) throw new Error(`lakehouse query failed: ${JSON.stringify(out)}`);
  return out.result;
}

/** Arrow type of each Iceberg primitive type, as PyIceberg and DuckDB hand them out. */
export const ARROW_OF_ICEBERG: Record<string, string> = {
  string: 'string',
  long: 'int64',
  int: 'int32',
  double: 'double',
  date: 'date32[day]',
  timestamptz: 'timestamp[us, tz=UTC]',
  'decimal(18, 4)': 'decimal128(18, 4)',
};

/** Spark SQL type of each Iceberg primitive type (`timestamp` is Spark's instant type). */
export const SPARK_OF_ICEBERG: Record<string, string> = {
  string: 'string',
  long: 'bigint',
  int: 'int',
  double: 'double',
  date: 'date',
  timestamptz: 'timestamp',
  'decimal(18, 4)': 'decimal(18,4)',
};

/**
 * Rows in one comparable form, sorted by `key`. Decimal columns: our JSON has numbers, which
 * become their text at the column's scale; the engines' exact decimal text is kept as it
 * is, so a wrong scale shows. Everything else as is.
 */
export function canonical(
  rows: Record<string, unknown>[],
  decimalScale: Record<string, number>,
  key = 'event_id',
): Record<string, unknown>[] {
  return rows
    .map((r) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [
          k,
          typeof v === 'number' && decimalScale[k] !== undefined ? v.toFixed(decimalScale[k]) : v,
        ]),
      ),
    )
    .sort((a, b) => String(a[key]).localeCompare(String(b[key])));
}

/**
 * Aggregate answers in one comparable form: numbers (and numeric text, as engines give
 * decimal sums) rounded to 6 places, so a DOUBLE average equals a decimal(22,8) one.
 */
export function aggregateRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  const num = (v: unknown) =>
    typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v))
      ? Number(Number(v).toFixed(6))
      : v;
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, num(v)])));
}
