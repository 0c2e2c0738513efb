import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for Cloudflare Pipelines HTTP ingest (there is no official simulator):
 * a real `node:http` server speaking the ingest contract (`POST /ingest/{stream}`, JSON
 * array body, bearer token, `200 {"committed":N}`) that records what it accepted and
 * injects the faults the relay must survive. See the shared reference `cloudflare-pipelines.md` (the ingest contract).
 */

export type SinkRecord = Record<string, unknown>;

/** What happens to a request that "times out": stored then never answered, or never stored. */
export type TimeoutMode = 'after-store' | 'before-store';

/** Faults; all can be given at start and changed at runtime with `setFaults`. */
export interface SinkFaults {
  /** Fraction [0,1] of requests answered `500`. */
  failRate?: number;
  /** Fraction [0,1] of requests answered `429` with `Retry-After: retryAfterSeconds`. */
  status429Rate?: number;
  /** `Retry-After` of the 429 answers, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Fraction [0,1] of requests never answered (the client times out). */
  timeoutRate?: number;
  /** Whether a timed-out request's records are stored first. Default `'after-store'`. */
  timeoutMode?: TimeoutMode;
  /** Close the listening socket (and drop open connections): connections are refused. */
  refuse?: boolean;
  /** Delay (ms) between receiving a request's body and answering it. */
  latencyMs?: number;
  /**
   * A request containing a record that matches is answered 400
   * `{"success":false,"errors":[{"index":I,"message":"poison"}, ...]}` and nothing of it is stored.
   */
  poison?: ((record: SinkRecord, stream: string) => boolean) | undefined;
  /** Answer poison with a bare 400 that names no record (as a sink that gives no detail). */
  poisonWithoutIndexes?: boolean;
  /** Raw body size above which the answer is 413. Default 1,000,000 (the 1 MB beta limit). */
  maxBodyBytes?: number;
}

export interface SinkServerOptions extends SinkFaults {
  /** When set, `Authorization: Bearer <token>` is required (401 otherwise). */
  token?: string;
  /** Seed of the PRNG that draws the random faults. Default 1. */
  seed?: number;
  /** Partition of a record, for the in-flight tracking. Default `String(record.tenant_id)`. */
  partitionOf?: (stream: string, record: SinkRecord) => string;
}

export const DEFAULT_MAX_BODY_BYTES = 1_000_000;

export type RequestOutcome =
  | 'ok'
  | 'error500'
  | 'throttled429'
  | 'timeout'
  | 'poison'
  | 'tooLarge'
  | 'unauthorized'
  | 'badRequest'
  | 'notFound'
  | 'methodNotAllowed'
  /** The client went away (or the server was stopped) before the answer. */
  | 'aborted'
  /** The sink stored the batch, then reset the connection (TCP RST) instead of answering. */
  | 'reset';

/** Outcomes that can be forced for the next requests with `forceOutcomes`. */
export type ForcedOutcome =
  | 'ok'
  | 'error500'
  | 'throttled429'
  | 'timeout-after-store'
  | 'timeout-before-store'
  | 'reset-after-store';

/** One accepted record, in the order the sink stored it. */
export interface ReceivedRecord {
  stream: string;
  /** 1-based number of the request that carried it (counts every request the server saw). */
  requestNo: number;
  /** Position of the record in its request. */
  index: number;
  /** `Date.now()` when the request's body was fully received. */
  arrivedAt: number;
  record: SinkRecord;
}

/** One request whose records were stored (answered 200, or timed out after storing). */
export interface AcceptedBatch {
  requestNo: number;
  stream: string;
  records: SinkRecord[];
  arrivedAt: number;
  storedAt: number;
  outcome: 'ok' | 'timeout';
}

/** Every request the server saw. */
export interface RequestLogEntry {
  requestNo: number;
  stream?: string;
  outcome: RequestOutcome;
  status?: number;
  recordCount: number;
  partitions: string[];
  startedAt: number;
  /** When the body was fully received. */
  arrivedAt?: number;
  /** When the answer was sent (absent for timeouts and aborts). */
  respondedAt?: number;
}

export type RequestCounts = { total: number } & Record<RequestOutcome, number>;

export interface SinkServer {
  /** URL template for `createHttpSink`: `http://127.0.0.1:PORT/ingest/{stream}`. */
  readonly url: string;
  readonly port: number;
  /** `url` with `{stream}` filled in. */
  urlFor(stream: string): string;
  /** All stored records in storage order. */
  received(): ReceivedRecord[];
  /** Stored records of one stream. */
  receivedFor(stream: string): ReceivedRecord[];
  /** Stored requests, in storage order. */
  batches(): AcceptedBatch[];
  /** Every request, in the order they were decided. */
  log(): RequestLogEntry[];
  /** Counts by outcome (a snapshot). */
  readonly requests: RequestCounts;
  /** Largest number of requests ever in flight at once for one partition. */
  readonly maxInFlightPerPartition: number;
  /** Largest number of requests ever in flight at once (all partitions). */
  readonly maxInFlight: number;
  /** Largest in-flight count observed, per partition. */
  maxInFlightByPartition(): Map<string, number>;
  /** Requests in flight right now, per partition (partitions at 0 omitted). */
  inFlightByPartition(): Map<string, number>;
  /** Requests in flight right now. */
  readonly inFlight: number;
  /** Current faults. */
  readonly faults: Readonly<SinkFaults>;
  /**
   * Changes some faults (the others keep their values; pass `undefined` to clear one).
   * `seed` reseeds the PRNG. Resolves once `refuse` took effect.
   */
  setFaults(patch: SinkFaults & { seed?: number }): Promise<void>;
  /** Forces the outcome of the next requests that reach the decision (before the random faults). */
  forceOutcomes(...outcomes: ForcedOutcome[]): void;
  /** Stops listening and drops every connection (same as `setFaults({ refuse: true })`). */
  stop(): Promise<void>;
  /** Listens again on the same port (same as `setFaults({ refuse: false })`). */
  restart(): Promise<void>;
  /** Forgets the recorded records, requests, counts and in-flight maxima (not the faults; request numbers keep growing). */
  clear(): void;
  /** Polls `predicate(server)` until it is true; throws after `timeoutMs`. */
  waitFor(predicate: (server: SinkServer) => boolean, options?: WaitForOptions): Promise<void>;
  /** Stops the server for good. */
  close(): Promise<void>;
}

export interface WaitForOptions {
  /** Default 10,000. */
  timeoutMs?: number;
  /** Default 10. */
  intervalMs?: number;
  /** Added to the timeout error. */
  message?: string;
}

/**
 * Polls `probe` until it returns a truthy value (returned) or the deadline passes (throws,
 * with the probe's last error if it threw). For waiting on state, never as a fixed sleep.
 */
export async function waitFor<T>(probe: () => T | Promise<T>, options: WaitForOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const why = lastError ? `; last error: ${(lastError as Error).message ?? String(lastError)}` : '';
      throw new Error(
        `waitFor timed out after ${timeoutMs} ms${options.message ? `: ${options.message}` : ''}${why}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** mulberry32: small, fast, seeded; good enough to draw faults reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const emptyCounts = (): RequestCounts => ({
  total: 0,
  ok: 0,
  error500: 0,
  throttled429: 0,
  timeout: 0,
  poison: 0,
  tooLarge: 0,
  unauthorized: 0,
  badRequest: 0,
  notFound: 0,
  methodNotAllowed: 0,
  aborted: 0,
  reset: 0,
});

const defaultPartitionOf = (_stream: string, record: SinkRecord): string => String(record.tenant_id);

const INGEST_PATH = /^\/ingest\/([^/?]+)\/?$/;

/** Starts a sink on 127.0.0.1 on a free port. */
export async function startSinkServer(options: SinkServerOptions = {}): Promise<SinkServer> {
  const { token, partitionOf = defaultPartitionOf } = options;
  const faults: SinkFaults = {
    failRate: options.failRate,
    status429Rate: options.status429Rate,
    retryAfterSeconds: options.retryAfterSeconds,
    timeoutRate: options.timeoutRate,
    timeoutMode: options.timeoutMode,
    refuse: false,
    latencyMs: options.latencyMs,
    poison: options.poison,
    poisonWithoutIndexes: options.poisonWithoutIndexes,
    maxBodyBytes: options.maxBodyBytes,
  };
  let random = seededRandom(options.seed ?? 1);
  const forced: ForcedOutcome[] = [];

  let requestNo = 0;
  let counts = emptyCounts();
  let receivedList: ReceivedRecord[] = [];
  let batchList: AcceptedBatch[] = [];
  let logList: RequestLogEntry[] = [];
  const inFlight = new Map<string, number>();
  let maxByPartition = new Map<string, number>();
  let inFlightTotal = 0;
  let maxTotal = 0;
  let maxPerPartition = 0;

  function json(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) {
    if (res.destroyed || res.writableEnded) return false;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
    return true;
  }

  function finish(entry: RequestLogEntry, outcome: RequestOutcome, status?: number) {
    entry.outcome = outcome;
    if (status !== undefined) {
      entry.status = status;
      entry.respondedAt = Date.now();
    }
    counts[outcome]++;
    logList.push(entry);
  }

  function store(entry: RequestLogEntry, stream: string, records: SinkRecord[], outcome: 'ok' | 'timeout') {
    const arrivedAt = entry.arrivedAt ?? Date.now();
    batchList.push({
      requestNo: entry.requestNo,
      stream,
      records,
      arrivedAt,
      storedAt: Date.now(),
      outcome,
    });
    records.forEach((record, index) => {
      receivedList.push({ stream, requestNo: entry.requestNo, index, arrivedAt, record });
    });
  }

  /** Marks the request in flight for its partitions; the returned function ends it (once). */
  function enterFlight(partitions: string[]): () => void {
    inFlightTotal++;
    maxTotal = Math.max(maxTotal, inFlightTotal);
    for (const p of partitions) {
      const n = (inFlight.get(p) ?? 0) + 1;
      inFlight.set(p, n);
      maxByPartition.set(p, Math.max(maxByPartition.get(p) ?? 0, n));
      maxPerPartition = Math.max(maxPerPartition, n);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      inFlightTotal--;
      for (const p of partitions) {
        const n = (inFlight.get(p) ?? 1) - 1;
        if (n <= 0) inFlight.delete(p);
        else inFlight.set(p, n);
      }
    };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const entry: RequestLogEntry = {
      requestNo: ++requestNo,
      outcome: 'aborted',
      recordCount: 0,
      partitions: [],
      startedAt: Date.now(),
    };
    counts.total++;

    // Read the whole body (discarding what exceeds the limit) so every answer is clean.
    const limit = faults.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size <= limit) chunks.push(chunk);
      }
    } catch {
      finish(entry, 'aborted');
      return;
    }
    entry.arrivedAt = Date.now();

    const path = INGEST_PATH.exec(new URL(req.url ?? '/', 'http://sink').pathname);
    if (!path) {
      json(res, 404, { success: false, errors: [{ message: `no route ${req.url}` }] });
      return finish(entry, 'notFound', 404);
    }
    const stream = decodeURIComponent(path[1]!);
    entry.stream = stream;
    if (req.method !== 'POST') {
      json(res, 405, { success: false, errors: [{ message: 'use POST' }] }, { allow: 'POST' });
      return finish(entry, 'methodNotAllowed', 405);
    }
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) {
      json(res, 401, { success: false, errors: [{ message: 'missing or wrong bearer token' }] });
      return finish(entry, 'unauthorized', 401);
    }
    if (size > limit) {
      json(res, 413, { success: false, errors: [{ message: `body of ${size} bytes exceeds ${limit}` }] });
      return finish(entry, 'tooLarge', 413);
    }
    let records: SinkRecord[];
    try {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (!Array.isArray(body)) throw new Error('body must be a JSON array of objects');
      const bad = body.findIndex((r) => r === null || typeof r !== 'object' || Array.isArray(r));
      if (bad >= 0) {
        json(res, 400, { success: false, errors: [{ index: bad, message: 'record must be a JSON object' }] });
        entry.recordCount = body.length;
        return finish(entry, 'badRequest', 400);
      }
      records = body as SinkRecord[];
    } catch (e) {
      json(res, 400, { success: false, errors: [{ message: (e as Error).message }] });
      return finish(entry, 'badRequest', 400);
    }
    entry.recordCount = records.length;
    entry.partitions = [...new Set(records.map((r) => partitionOf(stream, r)))];

    // In flight from "body received" until the answer is sent (or the connection closes).
    const leave = enterFlight(entry.partitions);
    res.on('close', leave);
    const answer = (status: number, body: unknown, headers?: Record<string, string>) => {
      leave();
      json(res, status, body, headers);
    };

    const latency = faults.latencyMs ?? 0;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    if (res.destroyed) {
      leave();
      return finish(entry, 'aborted');
    }

    // One draw per decided request, so the fault sequence depends only on the seed.
    const r = random();
    let decision = forced.shift();
    if (decision === undefined) {
      const fail = faults.failRate ?? 0;
      const throttle = fail + (faults.status429Rate ?? 0);
      const hang = throttle + (faults.timeoutRate ?? 0);
      if (r < fail) decision = 'error500';
      else if (r < throttle) decision = 'throttled429';
      else if (r < hang) decision = `timeout-${faults.timeoutMode ?? 'after-store'}`;
      else decision = 'ok';
    }
    switch (decision) {
      case 'error500':
        answer(500, { success: false, errors: [{ message: 'injected failure' }] });
        return finish(entry, 'error500', 500);
      case 'throttled429':
        answer(
          429,
          { success: false, errors: [{ message: 'rate limited' }] },
          { 'retry-after': String(faults.retryAfterSeconds ?? 1) },
        );
        return finish(entry, 'throttled429', 429);
      case 'timeout-after-store':
      case 'timeout-before-store':
        // Never answered: the client's timeout (or `close()`) ends the connection.
        if (decision === 'timeout-after-store') store(entry, stream, records, 'timeout');
        return finish(entry, 'timeout');
      case 'reset-after-store':
        store(entry, stream, records, 'timeout');
        leave();
        req.socket.resetAndDestroy();
        return finish(entry, 'reset');
    }
    const poison = faults.poison;
    if (poison) {
      const errors = records.flatMap((rec, index) =>
        poison(rec, stream) ? [{ index, message: 'poison' }] : [],
      );
      if (errors.length > 0) {
        answer(400, faults.poisonWithoutIndexes ? { success: false } : { success: false, errors });
        return finish(entry, 'poison', 400);
      }
    }
    store(entry, stream, records, 'ok');
    answer(200, { committed: records.length });
    finish(entry, 'ok', 200);
  }

  function createServer(): http.Server {
    const srv = http.createServer((req, res) => {
      handle(req, res).catch((e) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ success: false, errors: [{ message: `sink server bug: ${e}` }] }));
        }
      });
    });
    srv.keepAliveTimeout = 5_000;
    return srv;
  }

  function listen(srv: http.Server, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        srv.off('error', reject);
        resolve();
      });
    });
  }

  let server: http.Server | undefined = createServer();
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/ingest/{stream}`;
  let closed = false;

  // Listener changes are serialized.
  let transition: Promise<void> = Promise.resolve();
  const applyRefuse = (refuse: boolean) => {
    transition = transition.then(async () => {
      if (refuse && server) {
        const srv = server;
        server = undefined;
        await new Promise<void>((resolve) => {
          srv.close(() => resolve());
          srv.closeAllConnections();
        });
      } else if (!refuse && !server && !closed) {
        const srv = createServer();
        await listen(srv, port);
        server = srv;
      }
    });
    return transition;
  };

  if (options.refuse) {
    faults.refuse = true;
    await applyRefuse(true);
  }

  const api: SinkServer = {
    url,
    port,
    urlFor: (stream) => url.replaceAll('{stream}', encodeURIComponent(stream)),
    received: () => [...receivedList],
    receivedFor: (stream) => receivedList.filter((r) => r.stream === stream),
    batches: () => [...batchList],
    log: () => [...logList],
    get requests() {
      return { ...counts };
    },
    get maxInFlightPerPartition() {
      return maxPerPartition;
    },
    get maxInFlight() {
      return maxTotal;
    },
    maxInFlightByPartition: () => new Map(maxByPartition),
    inFlightByPartition: () => new Map(inFlight),
    get inFlight() {
      return inFlightTotal;
    },
    get faults() {
      return { ...faults };
    },
    setFaults(patch) {
      const { seed, ...rest } = patch;
      if (seed !== undefined) random = seededRandom(seed);
      Object.assign(faults, rest);
      if ('refuse' in rest) {
        faults.refuse = Boolean(rest.refuse);
        return applyRefuse(faults.refuse);
      }
      return transition;
    },
    forceOutcomes(...outcomes) {
      forced.push(...outcomes);
    },
    stop: () => api.setFaults({ refuse: true }),
    restart: () => api.setFaults({ refuse: false }),
    clear() {
      counts = emptyCounts();
      receivedList = [];
      batchList = [];
      logList = [];
      maxByPartition = new Map();
      maxTotal = inFlightTotal;
      maxPerPartition = 0;
      for (const [p, n] of inFlight) {
        maxByPartition.set(p, n);
        maxPerPartition = Math.max(maxPerPartition, n);
      }
    },
    waitFor: (predicate, waitOptions) => waitFor(() => predicate(api), waitOptions).then(() => undefined),
    async close() {
      closed = true;
      await applyRefuse(true);
    },
  };
  return api;
}
