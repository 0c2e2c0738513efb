import pg from 'pg';
import type { Logger } from 'pino';
import type { Catalog } from '../domain/defineCatalog.js';
import type { Executor } from '../outbox/executor.js';
import { pruneDelivered } from '../outbox/prune.js';
import { type PeriodicRun, runPeriodically } from '../periodic.js';

/** Options of {@link startRetention}. */
export interface RetentionOptions {
  databaseUrl: string;
  schema: string;
  /** Delete delivered events older than this many seconds (as `lakehouse prune --older-than`). */
  olderThanSeconds: number;
  /** Time between the end of one prune and the start of the next, in ms. Default 3,600,000 (1 h). */
  intervalMs?: number;
  /** Delay before the first prune, in ms. Default 0 (at start). */
  firstDelayMs?: number;
  /** Rows per DELETE: short statements, so a stop waits for little. Default 1,000. */
  batchSize?: number;
  /** Streams whose deleted events are rolled up for `reconcile`. Default: the default catalog. */
  catalog?: Catalog;
  logger: Logger;
}

/** Thrown between two DELETEs of a prune once retention stops. */
class RetentionStopped extends Error {}

/**
 * Scheduled retention in a running relay: the same prune as `lakehouse prune` (delivered
 * events only; aggregates' events kept) on its own connection, every `intervalMs`. Stopping
 * does not wait for a long prune: no further DELETE starts, and the one in flight (it may
 * wait on a row lock for as long as another transaction holds it) is cancelled with
 * `pg_cancel_backend`, which rolls that statement back and loses nothing (each DELETE is
 * its own transaction; the next prune resumes).
 */
export function startRetention(options: RetentionOptions): PeriodicRun {
  const log = options.logger.child({ task: 'retention' });
  const run = runPeriodically((signal) => pruneOnce(options, signal, log), options.intervalMs ?? 3_600_000, {
    firstDelayMs: options.firstDelayMs ?? 0,
    onError: (e) => log.error({ error: (e as Error).message }, 'prune failed; next one at the next interval'),
  });
  return run;
}

async function pruneOnce(options: RetentionOptions, signal: AbortSignal, log: Logger): Promise<void> {
  if (signal.aborted) return;
  const client = new pg.Client({ connectionString: options.databaseUrl, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // surfaces on the statement in flight
  let pid: number | undefined;
  const cancel = () => void cancelBackend(options.databaseUrl, pid).catch(() => {});
  signal.addEventListener('abort', cancel, { once: true });
  const exec: Executor = async <R>(text: string, params: unknown[] = []) => {
    if (signal.aborted) throw new RetentionStopped();
    return (await client.query(text, params)).rows as R[];
  };
  const started = performance.now();
  try {
    await client.connect();
    pid = (await exec<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]?.pid;
    log.info({ olderThanSeconds: options.olderThanSeconds }, 'prune started');
    const deleted = await pruneDelivered(exec, options.schema, {
      olderThanSeconds: options.olderThanSeconds,
      batchSize: options.batchSize ?? 1000,
      ...(options.catalog ? { catalog: options.catalog } : {}),
    });
    log.info({ deleted, ms: Math.round(performance.now() - started) }, 'pruned delivered events');
  } catch (e) {
    if (!signal.aborted) throw e;
    log.info('prune stopped by shutdown; the next start resumes it');
  } finally {
    signal.removeEventListener('abort', cancel);
    await client.end().catch(() => {});
  }
}

/** Cancels the statement a backend runs (from another connection: its own is busy). */
async function cancelBackend(databaseUrl: string, pid: number | undefined): Promise<void> {
  if (!pid) return;
  const c = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  c.on('error', () => {});
  await c.connect();
  try {
    await c.query('SELECT pg_cancel_backend($1)', [pid]);
  } finally {
    await c.end().catch(() => {});
  }
}
