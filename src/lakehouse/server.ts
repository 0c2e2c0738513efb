import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PipelineDefinition } from '../pipelines/types.js';
import { handleCatalog } from './catalogRoutes.js';
import { compact } from './compact.js';
import { expireSnapshots } from './expireSnapshots.js';
import { readBody, sendJson } from './http.js';
import { createIngestor, type Ingestor } from './ingestor.js';
import { QueryError, runQuery } from './query.js';
import { MAINTENANCE_HEADER } from './writeAccess.js';

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
  /** Drop records with an event_id the table already has. Default true. */
  dedupe?: boolean;
  onError?: (e: unknown, what: string) => void;
  /** Named as the holder in the warehouse lock file. Default `serve`. */
  command?: string;
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

function sameSecret(given: string, want: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  return sameSecret(String(req.headers.authorization ?? ''), `Bearer ${token}`);
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
    onError: options.onError,
    command: options.command,
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

  /** `lakehouse compact`/`expire-snapshots` run by another process while this one holds the warehouse. */
  async function maintenance(req: IncomingMessage, res: ServerResponse, path: string) {
    const secret = ingestor.lock?.holder.secret;
    if (!secret || !sameSecret(String(req.headers[MAINTENANCE_HEADER] ?? ''), secret)) {
      return sendJson(res, 401, {
        error: { message: 'maintenance needs the secret of the warehouse lock file' },
      });
    }
    const read = await readBody(req, 10_000);
    const body = ('body' in read ? JSON.parse(read.body.toString('utf8') || '{}') : {}) as Record<
      string,
      unknown
    >;
    const num = (k: string) => (typeof body[k] === 'number' ? (body[k] as number) : undefined);
    const table = typeof body.table === 'string' ? body.table : undefined;
    const op = path.slice('/maintenance/'.length);
    if (op === 'compact') {
      const tables = await compact({
        warehouse: options.warehouse,
        table,
        smallFileBytes: num('smallFileBytes'),
      });
      return sendJson(res, 200, { tables });
    }
    if (op === 'expire-snapshots') {
      const tables = await expireSnapshots({
        warehouse: options.warehouse,
        table,
        olderThanMs: num('olderThanMs'),
        retainLast: num('retainLast'),
        now: num('now'),
      });
      return sendJson(res, 200, { tables });
    }
    return sendJson(res, 404, { error: { message: `no maintenance operation ${op}` } });
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
    if (path.startsWith('/maintenance/') && req.method === 'POST') return maintenance(req, res, path);
    if (path === '/health') return sendJson(res, 200, { ok: true });
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
      try {
        await new Promise<void>((resolve, reject) => {
          server!.once('error', reject);
          server!.listen(options.port ?? 8787, options.host ?? '127.0.0.1', () => resolve());
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
