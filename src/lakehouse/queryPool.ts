import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { QueryError, type QueryOptions, type QueryResult } from './query.js';
import type { WorkerRequest, WorkerResponse } from './queryWorker.js';

/** Options of {@link createQueryPool}. */
export interface QueryPoolOptions {
  /** Query processes running at once; more queries wait. Default 2. */
  size?: number;
  /** A query (waiting included) is cancelled after this long. Default 30,000 ms. */
  timeoutMs?: number;
  /** Largest result; a query returning more fails. Default 10,000 rows (as Basin SQL). */
  maxRows?: number;
  /** Memory of each query process in MiB: DuckDB's limit, and as much again for its JavaScript heap. Default 1,024. */
  memoryMb?: number;
}

/** Runs queries in child processes, each with its own DuckDB: off the ingest path, killable. */
export interface QueryPool {
  /** Runs a query; `signal` cancels it (the client went away). */
  run(warehouse: string, sql: string, options?: QueryOptions, signal?: AbortSignal): Promise<QueryResult>;
  /** Kills every query process; running queries fail. Safe to call twice. */
  close(): Promise<void>;
}

interface Job {
  request: Omit<WorkerRequest, 'id'>;
  resolve: (r: QueryResult) => void;
  reject: (e: Error) => void;
  settled: boolean;
}

interface Worker {
  child: ChildProcess;
  job: Job | undefined;
  id: number;
}

// From the sources (tests, tsx), the worker is TypeScript: load it through tsx.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = fileURLToPath(new URL(`./queryWorker.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url));

/**
 * A pool of query processes. A process is reused while it behaves; at a timeout, a
 * cancellation or when it dies (out of memory), it is killed with SIGKILL and replaced on
 * demand, so nothing a query does can hold the server.
 */
export function createQueryPool(options: QueryPoolOptions = {}): QueryPool {
  const size = options.size ?? 2;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxRows = options.maxRows ?? 10_000;
  const memoryMb = options.memoryMb ?? 1024;
  const idle: Worker[] = [];
  const busy = new Set<Worker>();
  const waiting: Job[] = [];
  let closed = false;
  let nextId = 1;

  function settle(job: Job, outcome: { result: QueryResult } | { error: Error }) {
    if (job.settled) return;
    job.settled = true;
    if ('result' in outcome) job.resolve(outcome.result);
    else job.reject(outcome.error);
  }

  function kill(w: Worker) {
    busy.delete(w);
    const i = idle.indexOf(w);
    if (i >= 0) idle.splice(i, 1);
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }

  function spawnWorker(): Worker {
    const child = fork(WORKER, [], {
      execArgv: [...(FROM_SOURCE ? ['--import', 'tsx'] : []), `--max-old-space-size=${memoryMb}`],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    // An idle query process must not keep the parent alive; a busy one does.
    child.unref();
    child.channel?.unref();
    const w: Worker = { child, job: undefined, id: 0 };
    child.on('message', (m: WorkerResponse) => {
      const job = w.job;
      if (!job || m.id !== w.id) return;
      w.job = undefined;
      busy.delete(w);
      child.channel?.unref();
      if (m.ok) settle(job, { result: m.result });
      else settle(job, { error: new QueryError(m.code, m.message) });
      if (!closed) idle.push(w);
      pump();
    });
    child.on('exit', (code, signal) => {
      kill(w);
      if (w.job) {
        settle(w.job, {
          error: new QueryError(
            'FAILED',
            `the query process ended (${signal ?? `exit ${code}`}): the query probably needed more than ` +
              `${memoryMb} MiB; aggregate more or add a LIMIT`,
          ),
        });
        w.job = undefined;
      }
      pump();
    });
    child.on('error', () => {}); // 'exit' follows
    return w;
  }

  function pump() {
    while (!closed && waiting.length > 0 && (idle.length > 0 || busy.size < size)) {
      const job = waiting.shift()!;
      if (job.settled) continue;
      const w = idle.pop() ?? spawnWorker();
      w.job = job;
      w.id = nextId++;
      busy.add(w);
      w.child.channel?.ref();
      w.child.send({ id: w.id, ...job.request } satisfies WorkerRequest);
    }
  }

  function cancel(job: Job, error: QueryError) {
    settle(job, { error });
    const w = [...busy].find((x) => x.job === job);
    if (w) {
      w.job = undefined;
      kill(w);
      pump();
    }
  }

  return {
    run(warehouse, sql, queryOptions = {}, signal) {
      if (closed) return Promise.reject(new QueryError('FAILED', 'the server is stopping'));
      return new Promise<QueryResult>((resolve, reject) => {
        const job: Job = {
          request: { warehouse, sql, options: { maxRows, memoryLimitMb: memoryMb, ...queryOptions } },
          resolve,
          reject,
          settled: false,
        };
        const timer = setTimeout(
          () =>
            cancel(
              job,
              new QueryError(
                'TIMEOUT',
                `the query ran longer than ${timeoutMs / 1000} s and was cancelled: narrow it (partition columns in WHERE) or aggregate more`,
              ),
            ),
          timeoutMs,
        );
        const onAbort = () => cancel(job, new QueryError('CANCELLED', 'the client went away'));
        signal?.addEventListener('abort', onAbort, { once: true });
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
        job.resolve = (r) => {
          done();
          resolve(r);
        };
        job.reject = (e) => {
          done();
          reject(e);
        };
        if (signal?.aborted) return onAbort();
        waiting.push(job);
        pump();
      });
    },
    async close() {
      closed = true;
      for (const job of waiting.splice(0))
        settle(job, { error: new QueryError('FAILED', 'the server is stopping') });
      const all = [...busy, ...idle];
      for (const w of all) {
        if (w.job) settle(w.job, { error: new QueryError('FAILED', 'the server is stopping') });
        kill(w);
      }
      await Promise.all(
        all.map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.child.exitCode !== null || w.child.signalCode !== null) resolve();
              else w.child.once('exit', () => resolve());
            }),
        ),
      );
    },
  };
}
