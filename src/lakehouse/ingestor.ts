import { DuckDBInstance } from '@duckdb/node-api';
import { type PeriodicRun, runPeriodically } from '../periodic.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import { compact } from './compact.js';
import { type ExpireResult, expireSnapshots } from './expireSnapshots.js';
import { type IngestMode, ingestBehaviour } from './ingestMode.js';
import { TableWriter } from './tableWriter.js';
import { checkRecords, type RecordError, type RecordErrorReason } from './validateRecords.js';
import { acquireWarehouseLock, type WarehouseLock } from './warehouseLock.js';
import { registerWriter } from './writeAccess.js';

export interface IngestorOptions {
  /** Warehouse directory. */
  warehouse: string;
  /** The pipelines to run, one table each. */
  pipelines: PipelineDefinition[];
  /** Fold staged records into a commit at least this often (ms). Default 1,000. */
  rollIntervalMs?: number;
  /** ...or as soon as this many records are staged. Default 10,000. */
  rollRecords?: number;
  /** Drop records whose `event_id` the table already has (strict mode only). Default true. */
  dedupe?: boolean;
  /** `strict` (default) or `cloudflare` (behave as Pipelines do): see {@link IngestMode}. */
  mode?: IngestMode;
  /** Called with background errors (a failed commit is retried on the next roll). */
  onError?: (e: unknown, what: string) => void;
  /** Named in the warehouse lock file as the holder's command. Default `serve`. */
  command?: string;
  /**
   * Compact in the background this often (ms): partitions with `compactMinFiles` small files
   * or more are rewritten between two commits of their table; acknowledgements go on. Default
   * 60,000; 0 disables.
   */
  compactIntervalMs?: number;
  /** Small files a partition needs before background compaction rewrites it. Default 8. */
  compactMinFiles?: number;
  /**
   * Expire snapshots in the background this often (ms), as `lakehouse expire-snapshots`
   * does, each table between two of its commits. Default 0: never.
   */
  expireIntervalMs?: number;
  /** Snapshots older than this (ms) expire in the background. Default 7 days. */
  expireOlderThanMs?: number;
  /** The background expiry always keeps this many most recent snapshots per table. Default 5. */
  expireRetainLast?: number;
  /** Called after each background expiry with what it did. */
  onExpired?: (tables: ExpireResult[]) => void;
}

export type IngestResult =
  | { ok: true; committed: number; added: number }
  | { ok: false; reason: 'UNKNOWN_STREAM' }
  | { ok: false; reason: 'REJECTED'; errors: RecordError[] };

/** The write side of the local platform: validated records in, Iceberg commits out. */
export interface Ingestor {
  start(): Promise<void>;
  /** Validates and durably stages a batch for a stream; all-or-nothing. */
  ingest(stream: string, body: unknown): Promise<IngestResult>;
  /** Commits everything staged so far. */
  flush(): Promise<void>;
  /** Stops the roll timer and commits what is staged. Safe to call twice. */
  stop(): Promise<void>;
  readonly writers: ReadonlyMap<string, TableWriter>;
  /** The warehouse lock, held from `start()` to the end of `stop()`. */
  readonly lock: WarehouseLock | undefined;
  /** Per stream: records received, and records dropped as user errors (by reason) since start. */
  stats(): Record<string, IngestStats>;
}

/** What one stream's ingest did since the server started. */
export interface IngestStats {
  /** Records in acknowledged requests. */
  received: number;
  /** Records acknowledged but dropped because they fail the stream schema (`--like-cloudflare`). */
  userErrors: number;
  userErrorsByReason: Partial<Record<RecordErrorReason, number>>;
}

export function createIngestor(options: IngestorOptions): Ingestor {
  const rollIntervalMs = options.rollIntervalMs ?? 1000;
  const onError =
    options.onError ?? ((e, what) => process.stderr.write(`lakehouse: ${what} failed: ${String(e)}\n`));
  const writers = new Map<string, TableWriter>();
  const behaviour = ingestBehaviour(options.mode ?? 'strict', options.dedupe);
  const counters = new Map<string, IngestStats>();
  const statsOf = (stream: string) => {
    let c = counters.get(stream);
    if (!c) {
      c = { received: 0, userErrors: 0, userErrorsByReason: {} };
      counters.set(stream, c);
    }
    return c;
  };
  let duck: DuckDBInstance | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started: Promise<void> | undefined;
  let stopped = false;
  let lock: WarehouseLock | undefined;
  let compactTimer: NodeJS.Timeout | undefined;
  let compacting: Promise<unknown> | undefined;
  let expiry: PeriodicRun | undefined;
  let unregister: (() => void) | undefined;

  async function doStart() {
    // One writer per warehouse: taken before anything in it is read or written.
    lock = await acquireWarehouseLock(options.warehouse, options.command ?? 'serve');
    try {
      await openWriters();
    } catch (e) {
      writers.clear();
      duck?.closeSync();
      duck = undefined;
      await lock.release();
      throw e;
    }
    unregister = registerWriter(options.warehouse, (table, fn) => {
      const w = [...writers.values()].find((x) => x.paths.table === table);
      return w ? w.exclusive(fn) : fn();
    });
    const every = options.compactIntervalMs ?? 60_000;
    if (every > 0) {
      compactTimer = setInterval(() => {
        if (compacting || stopped) return;
        compacting = compact({ warehouse: options.warehouse, minFiles: options.compactMinFiles ?? 8 })
          .catch((e) => onError(e, 'background compaction'))
          .finally(() => {
            compacting = undefined;
          });
      }, every);
      compactTimer.unref();
    }
    if ((options.expireIntervalMs ?? 0) > 0) expiry = startExpiry(options, onError);
  }

  async function openWriters() {
    duck = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    for (const def of options.pipelines) {
      if (writers.has(def.stream))
        throw new Error(`two pipelines read stream ${def.stream}; one per stream is supported`);
      const w = new TableWriter({
        warehouse: options.warehouse,
        definition: def,
        duck,
        rollRecords: options.rollRecords ?? 10_000,
        dedupe: behaviour.dedupe,
        onError,
      });
      await w.open();
      writers.set(def.stream, w);
    }
    let rolling = false;
    timer = setInterval(() => {
      if (rolling) return;
      rolling = true;
      Promise.all(
        [...writers.values()].map((w) => w.flush().catch((e) => onError(e, `commit of ${w.paths.table}`))),
      ).finally(() => {
        rolling = false;
      });
    }, rollIntervalMs);
  }

  return {
    writers,
    stats: () => Object.fromEntries([...writers.keys()].map((stream) => [stream, { ...statsOf(stream) }])),
    get lock() {
      return lock;
    },
    start() {
      started ??= doStart();
      return started;
    },
    async ingest(stream, body) {
      const w = writers.get(stream);
      if (!w) return { ok: false, reason: 'UNKNOWN_STREAM' };
      const v = checkRecords(w.definition, body, {
        stripUnknown: behaviour.unknownField === 'strip',
      });
      if (v.bodyError) return { ok: false, reason: 'REJECTED', errors: [v.bodyError] };
      if (v.errors.length > 0 && behaviour.invalidRecord === 'reject-request') {
        return {
          ok: false,
          reason: 'REJECTED',
          errors: v.errors.map(({ index, field, message }) => ({ index, field, message })),
        };
      }
      const added = await w.append(
        v.records.map((r) => ({ eventId: String(r.event_id), line: JSON.stringify(r) })),
      );
      const c = statsOf(stream);
      c.received += (body as unknown[]).length;
      c.userErrors += v.failed.size;
      for (const index of v.failed) {
        const reason = v.errors.find((e) => e.index === index)?.reason ?? 'invalid_value';
        c.userErrorsByReason[reason] = (c.userErrorsByReason[reason] ?? 0) + 1;
      }
      return { ok: true, committed: (body as unknown[]).length, added };
    },
    async flush() {
      await Promise.all([...writers.values()].map((w) => w.flush()));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearInterval(timer);
      if (compactTimer) clearInterval(compactTimer);
      await started?.catch(() => {});
      await Promise.all([compacting, expiry?.stop()]);
      try {
        // What cannot be committed now stays staged (durable) for the next start.
        await Promise.all(
          [...writers.values()].map((w) => w.flush().catch((e) => onError(e, `commit of ${w.paths.table}`))),
        );
      } finally {
        unregister?.();
        duck?.closeSync();
        await lock?.release();
      }
    },
  };
}

/** Background snapshot expiry: through this process's writer, so never in the middle of a commit. */
function startExpiry(options: IngestorOptions, onError: (e: unknown, what: string) => void): PeriodicRun {
  return runPeriodically(
    async () => {
      const tables = await expireSnapshots({
        warehouse: options.warehouse,
        olderThanMs: options.expireOlderThanMs ?? 7 * 86_400_000,
        retainLast: options.expireRetainLast ?? 5,
      });
      options.onExpired?.(tables);
    },
    options.expireIntervalMs as number,
    { onError: (e) => onError(e, 'background snapshot expiry') },
  );
}
