import { constants } from 'node:fs';
import { access, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { lockPath, readLockState } from '../../lakehouse/warehouseLock.js';
import { ident } from '../../outbox/executor.js';
import { MIGRATIONS_FOLDER } from '../../outbox/migrate.js';
import { explainError } from '../errors.js';
import { withPg, withRedis } from './probes.js';

/** One line of `lakehouse doctor`. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** What was found. */
  detail: string;
  /** What to do, when the check failed. */
  fix?: string;
}

/** What doctor looks at. */
export interface DoctorTarget {
  databaseUrl: string;
  redisUrl: string;
  schema: string;
  warehouse: string;
  /** Sink URL template with `{stream}`. */
  sinkUrl: string;
  sinkToken?: string;
}

const MIN_NODE = [20, 18, 1];
const MIN_PG = 130000;

const failed = (name: string, e: unknown, t: DoctorTarget): DoctorCheck => {
  const x = explainError(e, t);
  const fix = x.hint?.replace(/; run `lakehouse doctor`.*$/, '');
  return { name, ok: false, detail: x.message, ...(fix ? { fix } : {}) };
};

export function checkNode(version = process.versions.node): DoctorCheck {
  const v = version.split('.').map(Number);
  const ok =
    v[0]! > MIN_NODE[0]! ||
    (v[0] === MIN_NODE[0] && (v[1]! > MIN_NODE[1]! || (v[1] === MIN_NODE[1] && v[2]! >= MIN_NODE[2]!)));
  return ok
    ? { name: 'Node.js', ok, detail: `v${version}` }
    : {
        name: 'Node.js',
        ok,
        detail: `v${version} is too old`,
        fix: `install Node.js ${MIN_NODE.join('.')} or later`,
      };
}

/** PostgreSQL: reachable, version, the outbox schema migrated, the position sequence far from its end. */
export async function checkPostgres(t: DoctorTarget): Promise<DoctorCheck[]> {
  try {
    return await withPg(t.databaseUrl, async (c) => {
      const { rows } = await c.query<{ v: string; n: string }>(
        "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n",
      );
      const version = rows[0]!;
      const out: DoctorCheck[] = [
        Number(version.n) >= MIN_PG
          ? { name: 'PostgreSQL', ok: true, detail: `reachable, version ${version.v}` }
          : {
              name: 'PostgreSQL',
              ok: false,
              detail: `version ${version.v}`,
              fix: 'use PostgreSQL 13 or later',
            },
      ];
      out.push(await checkMigrated(c, t.schema));
      return out;
    });
  } catch (e) {
    return [failed('PostgreSQL', e, t)];
  }
}

async function checkMigrated(c: import('pg').Client, schema: string): Promise<DoctorCheck> {
  const name = `schema "${schema}"`;
  const latest = Math.max(
    ...readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).map((m) => m.folderMillis),
  );
  const { rows } = await c.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [
    `${ident(schema)}.__migrations`,
  ]);
  const fix = 'run `lakehouse migrate` (same DATABASE_URL and LAKEHOUSE_DB_SCHEMA)';
  if (!rows[0]?.t) return { name, ok: false, detail: 'not migrated', fix };
  const applied = await c.query<{ last: string | null }>(
    `SELECT max(created_at) AS last FROM ${ident(schema)}.__migrations`,
  );
  if (Number(applied.rows[0]?.last ?? -1) < latest)
    return { name, ok: false, detail: 'migrations missing', fix };
  const seq = await c.query<{ used: number | null }>(
    `SELECT (last_value::float8 / max_value::float8) AS used FROM pg_sequences
      WHERE schemaname = $1 AND sequencename = 'events_position_seq'`,
    [schema],
  );
  const used = seq.rows[0]?.used ?? 0;
  if (used > 0.9)
    return {
      name,
      ok: false,
      detail: `event positions ${Math.round(used * 100)}% used`,
      fix: 'plan a new schema before the sequence ends',
    };
  return { name, ok: true, detail: 'migrated, up to date' };
}

/** Redis: reachable, and an eviction policy that cannot drop BullMQ's keys. */
export async function checkRedis(t: DoctorTarget): Promise<DoctorCheck[]> {
  try {
    return await withRedis(t.redisUrl, async (r) => {
      await r.ping();
      const info = await r.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
      const reach: DoctorCheck = { name: 'Redis', ok: true, detail: `reachable, version ${version}` };
      let policy: string | undefined;
      try {
        policy = ((await r.config('GET', 'maxmemory-policy')) as string[])[1];
      } catch {
        policy = /maxmemory_policy:(\S+)/.exec(await r.info('memory'))?.[1];
      }
      const evict: DoctorCheck =
        policy === 'noeviction'
          ? { name: 'Redis eviction', ok: true, detail: 'maxmemory-policy noeviction' }
          : {
              name: 'Redis eviction',
              ok: false,
              detail: `maxmemory-policy ${policy ?? 'unknown'}: Redis may delete queue keys under memory pressure`,
              fix: 'set maxmemory-policy noeviction (redis.conf or CONFIG SET), as BullMQ requires',
            };
      return [reach, evict];
    });
  } catch (e) {
    return [failed('Redis', e, t)];
  }
}

/** The nearest directory of `path` (itself or a parent) that exists. */
async function nearestExisting(path: string): Promise<string> {
  let p = resolve(path);
  for (;;) {
    try {
      await access(p);
      return p;
    } catch {
      if (dirname(p) === p) return p;
      p = dirname(p);
    }
  }
}

/** The warehouse directory: writable, or creatable where it does not exist yet (doctor creates nothing). */
export async function checkWarehouse(t: DoctorTarget): Promise<DoctorCheck> {
  const fix = 'set LAKEHOUSE_WAREHOUSE (or --warehouse) to a writable directory';
  const dir = await nearestExisting(t.warehouse);
  try {
    if (dir !== resolve(t.warehouse)) {
      await access(dir, constants.W_OK);
      return { name: 'warehouse', ok: true, detail: `${t.warehouse} does not exist yet; ${dir} is writable` };
    }
    const probe = join(dir, `.doctor-${process.pid}`);
    await writeFile(probe, 'ok');
    await unlink(probe);
    return { name: 'warehouse', ok: true, detail: `${t.warehouse} writable` };
  } catch (e) {
    return { name: 'warehouse', ok: false, detail: explainError(e, t).message, fix };
  }
}

/**
 * Who holds the warehouse's write lock: free, a live process (pid, host, since, URL), or a
 * process that no longer runs (a failure: its lock file was left behind by a crash).
 */
export async function checkWarehouseLock(t: DoctorTarget): Promise<DoctorCheck> {
  const name = 'warehouse lock';
  try {
    const lock = await readLockState(t.warehouse);
    if (lock.state === 'free') return { name, ok: true, detail: 'free (no process writes the warehouse)' };
    const h = lock.holder;
    const who =
      `"lakehouse ${h.command}" (pid ${h.pid} on ${h.host}, since ${h.startedAt}` +
      `${h.url ? `, ${h.url}` : ''})`;
    if (lock.state === 'held') return { name, ok: true, detail: `held by ${who}` };
    return {
      name,
      ok: false,
      detail: `stale: left by ${who}, which no longer runs`,
      fix: `delete ${lockPath(t.warehouse)} (the next \`lakehouse serve\` also takes it over)`,
    };
  } catch (e) {
    return { name, ok: false, detail: explainError(e, t).message, fix: 'check the warehouse directory' };
  }
}

/**
 * The sink: answers, and accepts the token. An empty batch (`[]`) writes nothing; 401/403
 * means the token is missing or refused.
 */
export async function checkSink(t: DoctorTarget): Promise<DoctorCheck> {
  const url = t.sinkUrl.replace('{stream}', 'orders');
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(t.sinkToken ? { authorization: `Bearer ${t.sinkToken}` } : {}),
      },
      body: '[]',
      signal: AbortSignal.timeout(5000),
    });
    await res.body?.cancel();
    if (res.status === 401 || res.status === 403)
      return {
        name: 'sink',
        ok: false,
        detail: `${url} refused the token (HTTP ${res.status})`,
        fix: t.sinkToken ? 'check LAKEHOUSE_SINK_TOKEN' : 'set LAKEHOUSE_SINK_TOKEN',
      };
    if (res.status >= 500)
      return {
        name: 'sink',
        ok: false,
        detail: `${url} answered HTTP ${res.status}`,
        fix: 'look at the sink server',
      };
    return { name: 'sink', ok: true, detail: `${url} answered HTTP ${res.status}` };
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause ?? e;
    return {
      name: 'sink',
      ok: false,
      detail: `${url} unreachable (${(cause as Error).message ?? String(cause)})`,
      fix: 'start it (`lakehouse serve` for the local lake) or set LAKEHOUSE_SINK_URL',
    };
  }
}
