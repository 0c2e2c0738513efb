import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { transformFilter } from '../pipelines/transformFilter.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import { handleCatalog } from './catalogRoutes.js';
import { readBody, sendJson } from './http.js';
import { createIngestor, type Ingestor } from './ingestor.js';
import { QueryError, runQuery } from './query.js';

/** Options of {@link createLakehouseServer}. */
export interface ServeOptions {
  /** Warehouse directory. Default `LAKEHOUSE_WAREHOUSE`, else `./.lakehouse/warehouse`. */
  warehouse: string;
  pipelines: PipelineDefinition[];
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Bearer token required on ingest when set. Default `LAKEHOUSE_SINK_TOKEN`. */
  token?: string;
  /** Largest request body in bytes. Default 1 MB (Cloudflare's limit). */
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
  onError?: (e: unknown, what: string) => void;
  /**
   * Extra routes (the dashboard), tried before the built-in ones: answer and resolve true to
   * take the request, resolve false to pass it on.
   */
  routes?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
}

export interface LakehouseServer {
  readonly url: string;
  readonly ingestor: Ingestor;
  start(): Promise<void>;
  /** Stops accepting requests, commits what is staged. Safe to call twice. */
  stop(): Promise<void>;
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const got = Buffer.from(String(req.headers.authorization ?? ''));
  const want = Buffer.from(`Bearer ${token}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The local data platform over HTTP: ingest, the Iceberg REST catalog and SQL. */
export function createLakehouseServer(options: ServeOptions): LakehouseServer {
  const maxBody = options.maxBodyBytes ?? 1_000_000;
  const ingestor = createIngestor({
    warehouse: options.warehouse,
    pipelines: options.pipelines,
    rollIntervalMs: options.rollIntervalMs,
    rollRecords: options.rollRecords,
    dedupe: options.dedupe,
    mode: options.likeCloudflare ? 'cloudflare' : 'strict',
    onError: options.onError,
  });
  let server: Server | undefined;
  let url = '';
  let stopping: Promise<void> | undefined;

  async function ingest(req: IncomingMessage, res: ServerResponse, stream: string) {
    if (!authorized(req, options.token)) {
      return sendJson(res, 401, { success: false, errors: [{ message: 'missing or wrong bearer token' }] });
    }
    if (!ingestor.writers.has(stream)) {
      return sendJson(res, 404, { success: false, errors: [{ message: `unknown stream "${stream}"` }] });
    }
    const read = await readBody(req, maxBody);
    if ('tooLarge' in read) {
      return sendJson(res, 413, {
        success: false,
        errors: [{ message: `request body over the ${maxBody}-byte limit: send fewer records per request` }],
      });
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

  async function sql(req: IncomingMessage, res: ServerResponse) {
    const read = await readBody(req, maxBody);
    if ('tooLarge' in read)
      return sendJson(res, 413, { success: false, errors: [{ code: 40004, message: 'too large' }] });
    let query: unknown;
    let tenant: unknown;
    try {
      ({ query, tenant } = JSON.parse(read.body.toString('utf8')) as { query?: unknown; tenant?: unknown });
    } catch {
      query = undefined;
    }
    if (typeof query !== 'string') {
      return sendJson(res, 400, {
        success: false,
        errors: [{ code: 40004, message: 'body must be {"query": "SELECT ..."}' }],
      });
    }
    try {
      const r = await runQuery(options.warehouse, query, typeof tenant === 'string' ? { tenant } : {});
      return sendJson(res, 200, {
        success: true,
        errors: [],
        result: { schema: r.schema, rows: r.rows, metrics: r.metrics },
      });
    } catch (e) {
      if (e instanceof QueryError) {
        return sendJson(res, 400, {
          success: false,
          errors: [{ code: e.code === 'REJECTED' ? 40004 : 40003, message: e.message }],
        });
      }
      throw e;
    }
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

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (options.routes && (await options.routes(req, res, path))) return;
    const ingestMatch = /^\/ingest\/([^/]+)\/?$/.exec(path);
    if (ingestMatch) {
      if (req.method !== 'POST')
        return sendJson(res, 405, { success: false, errors: [{ message: 'use POST' }] });
      return ingest(req, res, decodeURIComponent(ingestMatch[1]!));
    }
    if (path === '/catalog' || path.startsWith('/catalog/')) {
      return handleCatalog(options.warehouse, req, res, path.slice('/catalog'.length));
    }
    if (path === '/sql' && req.method === 'POST') return sql(req, res);
    if (path === '/health') return sendJson(res, 200, { ok: true });
    if (path === '/stats' && req.method === 'GET') return sendJson(res, 200, await tableStats());
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
        handle(req, res).catch((e) => {
          options.onError?.(e, `${req.method} ${req.url}`);
          if (!res.headersSent) sendJson(res, 500, { success: false, errors: [{ message: String(e) }] });
          else res.destroy();
        });
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => resolve());
      });
      const addr = server.address() as AddressInfo;
      url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    },
    stop() {
      stopping ??= (async () => {
        if (server) {
          const s = server;
          await new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          });
        }
        await ingestor.stop();
      })();
      return stopping;
    },
  };
}
