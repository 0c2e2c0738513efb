import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { envConfig } from '../config.js';
import { LakehouseError } from '../errors.js';
import { readBody, sendJson } from '../lakehouse/http.js';
import { QueryError } from '../lakehouse/query.js';
import { createQueryPool, type QueryPool, type QueryPoolOptions } from '../lakehouse/queryPool.js';
import { replay } from '../relay/replay.js';
import { DASHBOARD_HTML } from './page.js';
import { createRelayLiveness } from './relayLiveness.js';
import { readDashboardState } from './state.js';

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  databaseUrl: string;
  /** Outbox schema. */
  schema: string;
  warehouse: string;
  /** Streams listed (with nothing pending yet too). Default: the default catalog's. */
  streamNames?: readonly string[];
  /** Required (`Authorization: Bearer` or `?token=`) when set. Default `LAKEHOUSE_DASHBOARD_TOKEN`. */
  token?: string;
  /** The address the server listens on: a token is required unless it is a loopback address. */
  host: string;
  /** Redis of the relay's BullMQ queue, shown by bull-board under `/dashboard/queues`. Default `REDIS_URL`. */
  redisUrl?: string;
  /** The relay's queue. Default `lakehouse-relay-<schema>`. */
  queueName?: string;
  /** Limits of the SQL box's queries (run in their own processes): as `lakehouse serve`'s `/sql`. */
  queries?: QueryPoolOptions;
}

export interface Dashboard {
  /** Route handler for the lakehouse server (`routes` option): takes `/dashboard...`. */
  routes(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  close(): Promise<void>;
}

const QUEUES_PATH = '/dashboard/queues';
type Handler = (req: IncomingMessage, res: ServerResponse, next: (e?: unknown) => void) => void;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

const COOKIE = 'lakehouse_dashboard_token';

/**
 * The token may come as `?token=` (links), `Authorization: Bearer` (the page's fetches) or the
 * cookie set after a `?token=` visit (bull-board's own assets and API calls carry no token).
 */
function tokenOk(req: IncomingMessage, res: ServerResponse, token: string | undefined): boolean {
  if (!token) return true;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const cookie = String(req.headers.cookie ?? '')
    .split(/;\s*/)
    .find((c) => c.startsWith(`${COOKIE}=`))
    ?.slice(COOKIE.length + 1);
  const fromQuery = url.searchParams.get('token');
  const bearer = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
  const ok = [fromQuery, bearer, cookie && decodeURIComponent(cookie)].some((given) => {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  });
  if (ok && fromQuery) {
    res.setHeader(
      'set-cookie',
      `${COOKIE}=${encodeURIComponent(token)}; Path=/dashboard; HttpOnly; SameSite=Strict`,
    );
  }
  return ok;
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const read = await readBody(req, 100_000);
  if (!('body' in read)) return {};
  try {
    const v = JSON.parse(read.body.toString('utf8') || '{}');
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}

/**
 * The operator's dashboard, served under `/dashboard` by the lakehouse server: delivery per
 * stream, parked events and failed batches (with Replay), lake tables, and a read-only SQL box.
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const token = options.token ?? (process.env.LAKEHOUSE_DASHBOARD_TOKEN || undefined);
  if (!token && !LOOPBACK.has(options.host)) {
    throw new LakehouseError(
      'CONFIG',
      `the dashboard is reachable from other machines on ${options.host}: set LAKEHOUSE_DASHBOARD_TOKEN ` +
        '(or use --no-dashboard, or bind to 127.0.0.1)',
    );
  }
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 4 });
  pool.on('error', () => {});
  // bull-board (BullMQ queue state) is created on first use: no Redis connection until then.
  let board: { handler: Handler; queue: Queue; redis: Redis } | undefined;
  let queries: QueryPool | undefined;
  const bullBoard = () => {
    if (board) return board;
    const redis = new Redis(options.redisUrl ?? envConfig().redisUrl, { maxRetriesPerRequest: null });
    redis.on('error', () => {});
    const queue = new Queue(options.queueName ?? `lakehouse-relay-${options.schema}`, { connection: redis });
    queue.on('error', () => {});
    const adapter = new ExpressAdapter().setBasePath(QUEUES_PATH);
    createBullBoard({ queues: [new BullMQAdapter(queue, { readOnlyMode: false })], serverAdapter: adapter });
    board = { handler: adapter.getRouter() as Handler, queue, redis };
    return board;
  };
  const liveness = createRelayLiveness(
    options.redisUrl ?? envConfig().redisUrl,
    options.queueName ?? `lakehouse-relay-${options.schema}`,
  );
  return {
    async routes(req, res, path) {
      if (path !== '/dashboard' && !path.startsWith('/dashboard/')) return false;
      if (!tokenOk(req, res, token)) {
        sendJson(res, 401, {
          error: 'missing or wrong dashboard token (LAKEHOUSE_DASHBOARD_TOKEN): add ?token=',
        });
        return true;
      }
      if (path === QUEUES_PATH || path.startsWith(`${QUEUES_PATH}/`)) {
        const { handler } = bullBoard();
        // The express app of bull-board expects to be mounted: strip the prefix from the URL.
        req.url = (req.url ?? '/').slice(QUEUES_PATH.length) || '/';
        if (!req.url.startsWith('/')) req.url = `/${req.url}`;
        await new Promise<void>((resolve, reject) => {
          res.once('finish', () => resolve());
          res.once('close', () => resolve());
          handler(req, res, (e) => {
            if (e) reject(e);
            else {
              sendJson(res, 404, { error: `no route ${path}` });
              resolve();
            }
          });
        });
        return true;
      }
      if ((path === '/dashboard' || path === '/dashboard/') && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(DASHBOARD_HTML);
        return true;
      }
      if (path === '/dashboard/api/state' && req.method === 'GET') {
        sendJson(
          res,
          200,
          await readDashboardState(
            pool,
            options.schema,
            options.warehouse,
            liveness.workers,
            options.streamNames,
          ),
        );
        return true;
      }
      if (path === '/dashboard/api/replay' && req.method === 'POST') {
        const body = await jsonBody(req);
        const client = await pool.connect();
        try {
          const r = await replay(client, options.schema, {
            stream: typeof body.stream === 'string' ? body.stream : undefined,
            partitionKey: typeof body.partitionKey === 'string' ? body.partitionKey : undefined,
          });
          sendJson(res, 200, r);
        } finally {
          client.release();
        }
        return true;
      }
      if (path === '/dashboard/api/sql' && req.method === 'POST') {
        const body = await jsonBody(req);
        if (typeof body.query !== 'string') {
          sendJson(res, 400, {
            success: false,
            errors: [{ message: 'body must be {"query": "SELECT ..."}' }],
          });
          return true;
        }
        const gone = new AbortController();
        res.on('close', () => {
          if (!res.writableFinished) gone.abort();
        });
        try {
          queries ??= createQueryPool(options.queries);
          const r = await queries.run(options.warehouse, body.query, {}, gone.signal);
          sendJson(res, 200, { success: true, errors: [], result: { schema: r.schema, rows: r.rows } });
        } catch (e) {
          if (!(e instanceof QueryError)) throw e;
          if (e.code === 'CANCELLED') res.destroy();
          else sendJson(res, 400, { success: false, errors: [{ message: e.message }] });
        }
        return true;
      }
      sendJson(res, 404, { error: `no dashboard route ${req.method} ${path}` });
      return true;
    },
    async close() {
      await queries?.close();
      if (board) {
        await board.queue.close().catch(() => {});
        board.redis.disconnect();
      }
      await liveness.close();
      await pool.end();
    },
  };
}
