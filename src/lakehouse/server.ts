import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Catalog } from '../domain/defineCatalog.js';
import { LakehouseError } from '../errors.js';
import { pipelinesOf } from '../pipelines/catalogPipelines.js';
import { transformFilter } from '../pipelines/transformFilter.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import { handleCatalog } from './catalogRoutes.js';
import { allowedHosts, bearerOk, isLoopback, refuseRequest } from './guards.js';
import { bodyProblem, readBody, sendJson } from './http.js';
import { createIngestor, type Ingestor, type IngestorOptions } from './ingestor.js';
import { handleMaintenance } from './maintenanceRoute.js';
import { createQueryPool, type QueryPool, type QueryPoolOptions } from './queryPool.js';
import { handleSql } from './sqlRoute.js';

/** Options of {@link createLakehouseServer}. */
export interface ServeOptions {
  /** Warehouse directory. */
  warehouse: string;
  /** The streams whose tables this server writes. Default: the default catalog (Company Manager's six). */
  catalog?: Catalog;
  /** The pipelines to run, one table each. Default: `pipelinesOf(catalog)`. */
  pipelines?: PipelineDefinition[];
  /** Default `127.0.0.1`. Any other (non-loopback) address requires `token` and `accessToken`. */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Bearer token required on `/ingest` when set (the CLI reads `LAKEHOUSE_SINK_TOKEN`). */
  token?: string;
  /**
   * Bearer token required on `/sql` and `/catalog` when set (the CLI reads
   * `LAKEHOUSE_DASHBOARD_TOKEN`, which also guards the dashboard).
   */
  accessToken?: string;
  /** Host header values answered besides this server's own addresses (DNS names it is reached by). */
  allowedHosts?: string[];
  /** Largest request body in bytes (inflated, for gzip bodies). Default 1 MB (Cloudflare's limit). */
  maxBodyBytes?: number;
  /** Default 1,000 ms. */
  rollIntervalMs?: number;
  /** Default 10,000. */
  rollRecords?: number;
  /** Drop records with an event_id the table already has. Default true (ignored with `likeCloudflare`). */
  dedupe?: boolean;
  /**
   * Behave as Cloudflare Pipelines do (`lakehouse serve --like-cloudflare`): at least once
   * (no dedupe by `event_id`), records failing the stream schema answered 200 and dropped
   * (counted as user errors in `GET /stats`), unknown fields stripped. Default false.
   */
  likeCloudflare?: boolean;
  /** Background compaction interval (ms); 0 disables. Default 60,000 (see `IngestorOptions`). */
  compactIntervalMs?: number;
  /** Small files a partition needs before background compaction rewrites it. Default 8. */
  compactMinFiles?: number;
  /** Background snapshot expiry: interval, age, snapshots kept, report (see `IngestorOptions`). Off by default. */
  expire?: Pick<IngestorOptions, 'expireIntervalMs' | 'expireOlderThanMs' | 'expireRetainLast' | 'onExpired'>;
  /** `/sql` limits: timeout (30 s), row cap (10,000), memory (1 GiB) and parallel queries (2). */
  queries?: QueryPoolOptions;
  onError?: (e: unknown, what: string) => void;
  /** Named as the holder in the warehouse lock file. Default `serve`. */
  command?: string;
  /**
   * Extra routes (the dashboard), tried before the built-in ones: answer and resolve true to
   * take the request, resolve false to pass it on. They guard their own paths.
   */
  routes?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
}

export interface LakehouseServer {
  readonly url: string;
  readonly ingestor: Ingestor;
  start(): Promise<void>;
  /** Stops accepting requests, kills running queries, commits what is staged. Safe to call twice. */
  stop(): Promise<void>;
}

const unauthorized = (res: ServerResponse, what: string) =>
  sendJson(res, 401, { success: false, errors: [{ message: `missing or wrong bearer token (${what})` }] });

/** The answer to an error no route handled: 4xx for a malformed request, else a bare 500 (details go to the log). */
function sendFailure(res: ServerResponse, path: string, e: unknown) {
  const malformed = e instanceof URIError;
  const status = malformed ? 400 : 500;
  const message = malformed ? 'malformed percent-escape in the path' : 'internal error (see the server log)';
  if (path === '/catalog' || path.startsWith('/catalog/')) {
    const type = malformed ? 'BadRequestException' : 'InternalServerError';
    return sendJson(res, status, { error: { message, type, code: status } });
  }
  return sendJson(res, status, { success: false, errors: [{ message }] });
}

/** The local data platform over HTTP: ingest, the Iceberg REST catalog and SQL. */
export function createLakehouseServer(options: ServeOptions): LakehouseServer {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopback(host) && (!options.token || !options.accessToken)) {
    throw new LakehouseError(
      'CONFIG',
      `${host} is reachable from other machines: set LAKEHOUSE_SINK_TOKEN (ingest) and LAKEHOUSE_DASHBOARD_TOKEN ` +
        '(SQL, catalog, dashboard), or bind to 127.0.0.1',
    );
  }
  const hosts = allowedHosts(host, options.allowedHosts);
  const maxBody = options.maxBodyBytes ?? 1_000_000;
  const ingestor = createIngestor({
    warehouse: options.warehouse,
    pipelines: options.pipelines ?? pipelinesOf(options.catalog),
    rollIntervalMs: options.rollIntervalMs,
    rollRecords: options.rollRecords,
    dedupe: options.dedupe,
    mode: options.likeCloudflare ? 'cloudflare' : 'strict',
    onError: options.onError,
    command: options.command,
    compactIntervalMs: options.compactIntervalMs,
    compactMinFiles: options.compactMinFiles,
    ...options.expire,
  });
  let pool: QueryPool | undefined;
  let server: Server | undefined;
  let url = '';
  let stopping: Promise<void> | undefined;

  async function ingest(req: IncomingMessage, res: ServerResponse, stream: string) {
    if (!bearerOk(req, options.token)) return unauthorized(res, 'LAKEHOUSE_SINK_TOKEN');
    if (!ingestor.writers.has(stream)) {
      return sendJson(res, 404, { success: false, errors: [{ message: `unknown stream "${stream}"` }] });
    }
    const read = await readBody(req, maxBody);
    if (!('body' in read)) {
      const p = bodyProblem(read, maxBody);
      return sendJson(res, p.status, { success: false, errors: [{ message: p.message }] });
    }
    let body: unknown;
    try {
      body = JSON.parse(read.body.toString('utf8'));
    } catch (e) {
      return sendJson(res, 400, {
        success: false,
        errors: [{ message: `invalid JSON: ${(e as Error).message}` }],
      });
    }
    const r = await ingestor.ingest(stream, body);
    if (r.ok) return sendJson(res, 200, { committed: r.committed });
    if (r.reason === 'UNKNOWN_STREAM') {
      return sendJson(res, 404, { success: false, errors: [{ message: `unknown stream "${stream}"` }] });
    }
    return sendJson(res, 400, { success: false, errors: r.errors });
  }

  /** Per table: ingest counters (user errors) and records dropped by the pipeline's transform. */
  async function tableStats() {
    const ingest = ingestor.stats();
    const tables: Record<string, unknown> = {};
    for (const [stream, w] of ingestor.writers) {
      tables[w.paths.table] = {
        stream,
        mode: options.likeCloudflare ? 'cloudflare' : 'strict',
        ...ingest[stream],
        filteredByTransform: await w.filteredTotal(),
        transformFilter: transformFilter(w.definition) ?? null,
      };
    }
    return { tables };
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string) {
    const refused = refuseRequest(req, hosts);
    if (refused) return sendJson(res, 403, { success: false, errors: [{ message: refused }] });
    if (options.routes && (await options.routes(req, res, path))) return;
    const ingestMatch = /^\/ingest\/([^/]+)\/?$/.exec(path);
    if (ingestMatch) {
      if (req.method !== 'POST')
        return sendJson(res, 405, { success: false, errors: [{ message: 'use POST' }] });
      return ingest(req, res, decodeURIComponent(ingestMatch[1]!));
    }
    if (path === '/catalog' || path.startsWith('/catalog/')) {
      if (!bearerOk(req, options.accessToken)) {
        const message = 'missing or wrong bearer token (LAKEHOUSE_DASHBOARD_TOKEN)';
        return sendJson(res, 401, { error: { message, type: 'NotAuthorizedException', code: 401 } });
      }
      return handleCatalog(options.warehouse, req, res, path.slice('/catalog'.length));
    }
    if (path === '/sql' && req.method === 'POST') {
      if (!bearerOk(req, options.accessToken)) return unauthorized(res, 'LAKEHOUSE_DASHBOARD_TOKEN');
      pool ??= createQueryPool(options.queries);
      return handleSql(req, res, pool, options.warehouse, maxBody);
    }
    if (path.startsWith('/maintenance/') && req.method === 'POST') {
      return handleMaintenance(req, res, options.warehouse, ingestor.lock?.holder.secret, path);
    }
    if (path === '/health') return sendJson(res, 200, { ok: true });
    if (path === '/stats' && req.method === 'GET') {
      if (!bearerOk(req, options.accessToken)) return unauthorized(res, 'LAKEHOUSE_DASHBOARD_TOKEN');
      return sendJson(res, 200, await tableStats());
    }
    return sendJson(res, 404, { success: false, errors: [{ message: `no route ${req.method} ${path}` }] });
  }

  return {
    ingestor,
    get url() {
      return url;
    },
    async start() {
      await ingestor.start();
      server = createServer((req, res) => {
        let path = '/';
        try {
          path = new URL(req.url ?? '/', 'http://localhost').pathname;
        } catch {
          // an unparsable request target: answered 404 below
        }
        handle(req, res, path).catch((e) => {
          if (!(e instanceof URIError)) options.onError?.(e, `${req.method} ${req.url}`);
          if (!res.headersSent) sendFailure(res, path, e);
          else res.destroy();
        });
      });
      try {
        await new Promise<void>((resolve, reject) => {
          server!.once('error', reject);
          server!.listen(options.port ?? 8787, host, () => resolve());
        });
      } catch (e) {
        server = undefined;
        await ingestor.stop();
        throw e;
      }
      const addr = server.address() as AddressInfo;
      url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
      await ingestor.lock?.advertise(url);
    },
    stop() {
      stopping ??= (async () => {
        if (server) {
          const s = server;
          const closed = new Promise<void>((resolve) => s.close(() => resolve()));
          s.closeAllConnections();
          await pool?.close();
          await closed;
        }
        await ingestor.stop();
      })();
      return stopping;
    },
  };
}
