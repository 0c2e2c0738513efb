import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type ReceivedRequest, startServer, type TestServer } from '../../support/httpServer.js';

/**
 * A loopback stand-in of the Cloudflare APIs the project calls, following the contract in
 * the reference (`cloudflare-pipelines.md`) and the Pipelines v1 REST shapes:
 * - `/client/v4/accounts/{id}/pipelines/v1/{streams,sinks,pipelines}`: paginated lists
 *   (`page`, `per_page`, `result_info.total_count`), create, get, delete; `validate_sql`.
 *   Error envelopes `{"success":false,"errors":[{"code","message"}]}`. Bearer auth.
 *   Catalog sinks take token, account_id, bucket, namespace, table_name, rolling_policy and
 *   nothing else (no partitioning); a sink cannot target a table that already exists.
 *   Deleting a stream drops its buffered records and the pipelines reading it.
 * - `/client/v4/accounts/{id}/r2-catalog/{bucket}/namespaces/{ns}/tables/{t}/maintenance-configs`
 *   (404 until the sink created its table at its first roll: see {@link StandIn.roll}).
 * - `/client/v4/graphql`: `pipelinesUserErrorsAdaptiveGroups`, `pipelinesSinkAdaptiveGroups`,
 *   `pipelinesOperatorAdaptiveGroups`, from {@link StandIn.metrics}.
 * - `/api/v1/accounts/{id}/basin-sql/query/{bucket}`: Basin SQL, answered by {@link StandIn.sql}.
 * - `/ingest/{streamId}`: a stream's HTTP endpoint (`{"committed":N}`).
 * Codes the reference does not give (duplicate names, bad requests) are marked as ours.
 */
export interface StandIn {
  server: TestServer;
  /** `CLOUDFLARE_API_BASE_URL` for this stand-in. */
  apiBase: string;
  /** `LAKEHOUSE_BASIN_SQL_BASE_URL` for this stand-in. */
  sqlBase: string;
  token: string;
  accountId: string;
  streams: Stream[];
  sinks: Sink[];
  pipelines: Pipeline[];
  /** Tables the sinks created (`namespace.table`), with their maintenance settings. */
  tables: Map<string, Record<string, unknown>>;
  /** Records each stream took in over HTTP, by stream id. */
  ingested: Map<string, unknown[]>;
  /** Lists of these kinds answer 500 with an error envelope. */
  failLists: Set<'streams' | 'sinks' | 'pipelines'>;
  /** Largest page the lists return, whatever `per_page` asks. Default 20. */
  maxPerPage: number;
  /** GraphQL datasets, by field name: the groups returned (filtered by pipelineId when asked). */
  metrics: Record<string, unknown[]>;
  /** Answers a Basin SQL request body `{warehouse, query}`: [HTTP status, JSON body]. */
  sql: (body: { warehouse?: string; query?: string }) => [number, unknown];
  /** Extra SQL refusals of `validate_sql` and pipeline creation (DataFusion's, in reality). */
  rejectSql?: (sql: string) => string | undefined;
  /** Every sink creates its table, as at its first roll. */
  roll(): void;
  /** Seeds a resource as if created earlier (bypasses validation). */
  seed(kind: 'stream' | 'sink' | 'pipeline', item: Record<string, unknown>): void;
  close(): Promise<void>;
}

export interface Stream {
  id: string;
  name: string;
  version: number;
  endpoint: string;
  schema: { fields: Record<string, unknown>[] } | null;
  format: unknown;
  http: unknown;
  worker_binding: unknown;
  created_at: string;
  modified_at: string;
}
export interface Sink {
  id: string;
  name: string;
  type: string;
  format: unknown;
  config: Record<string, unknown>;
  created_at: string;
  modified_at: string;
}
export interface Pipeline {
  id: string;
  name: string;
  sql: string;
  status: string;
  failure_reason?: string | null;
  created_at: string;
  modified_at: string;
}

const FIELD_TYPES = new Set([
  'bool',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'float32',
  'float64',
  'decimal128',
  'string',
  'timestamp',
  'json',
  'bytes',
  'list',
  'struct',
]);
const CATALOG_CONFIG_KEYS = new Set([
  'token',
  'account_id',
  'bucket',
  'namespace',
  'table_name',
  'rolling_policy',
]);
const NAME = /^[a-zA-Z0-9_]+$/;
/** The documented fields of the GraphQL datasets (Basin Pipelines metrics page). */
const DATASETS: Record<string, Set<string>> = {
  pipelinesOperatorAdaptiveGroups: new Set([
    'sum',
    'recordsIn',
    'bytesIn',
    'decodeErrors',
    'dimensions',
    'pipelineId',
    'streamId',
    'datetimeHour',
  ]),
  pipelinesSinkAdaptiveGroups: new Set([
    'sum',
    'bytesWritten',
    'recordsWritten',
    'filesWritten',
    'rowGroupsWritten',
    'uncompressedBytesWritten',
    'dimensions',
    'pipelineId',
    'sinkId',
    'datetimeHour',
  ]),
  pipelinesUserErrorsAdaptiveGroups: new Set([
    'count',
    'dimensions',
    'pipelineId',
    'errorFamily',
    'errorType',
    'datetimeHour',
  ]),
};

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
function ok(res: ServerResponse, result: unknown, extra: Record<string, unknown> = {}): void {
  json(res, 200, { success: true, errors: [], messages: [], result, ...extra });
}
function fail(res: ServerResponse, status: number, code: number, message: string): void {
  json(res, status, { success: false, errors: [{ code, message }], messages: [], result: null });
}

export async function startCloudflareStandIn(): Promise<StandIn> {
  const now = () => new Date().toISOString();
  const s = {} as StandIn;
  Object.assign(s, {
    token: 'test-api-token',
    accountId: 'acc0123',
    streams: [],
    sinks: [],
    pipelines: [],
    tables: new Map(),
    ingested: new Map(),
    failLists: new Set(),
    maxPerPage: 20,
    metrics: {},
    sql: () => [200, { success: true, errors: [], result: { schema: [], rows: [], metrics: {} } }],
  });
  const lists = { streams: s.streams, sinks: s.sinks, pipelines: s.pipelines } as Record<
    string,
    { id: string; name: string }[]
  >;

  const handle = (req: ReceivedRequest, res: ServerResponse) => {
    const url = new URL(req.url, 'http://x');
    const path = url.pathname;
    let body: Record<string, unknown> = {};
    try {
      body = req.body ? JSON.parse(req.body) : {};
    } catch {
      return fail(res, 400, 1003, 'malformed JSON');
    }
    const ingest = /^\/ingest\/([^/]+)$/.exec(path);
    if (ingest && req.method === 'POST') {
      const stream = s.streams.find((x) => x.id === ingest[1]);
      if (!stream) return fail(res, 404, 1000, 'stream not found');
      if (req.headers.authorization !== `Bearer ${s.token}`)
        return fail(res, 401, 10000, 'Authentication error');
      if (!Array.isArray(body)) return fail(res, 400, 1003, 'body must be a JSON array');
      s.ingested.set(stream.id, [...(s.ingested.get(stream.id) ?? []), ...(body as unknown[])]);
      return json(res, 200, { committed: (body as unknown[]).length });
    }
    if (req.headers.authorization !== `Bearer ${s.token}`) {
      return fail(res, 403, 10000, 'Authentication error');
    }
    if (path === '/client/v4/graphql' && req.method === 'POST') return graphql(body, res);
    const sql = /^\/api\/v1\/accounts\/([^/]+)\/(?:basin-sql|r2-sql)\/query\/([^/]+)$/.exec(path);
    if (sql && req.method === 'POST') {
      if (sql[1] !== s.accountId) return fail(res, 404, 7003, 'account not found');
      const [status, answer] = s.sql(body as { warehouse?: string; query?: string });
      return json(res, status, answer);
    }
    const acc = /^\/client\/v4\/accounts\/([^/]+)(\/.*)$/.exec(path);
    if (!acc || acc[1] !== s.accountId) return fail(res, 404, 7003, 'Could not route to this path');
    const rest = acc[2]!;
    const maint = /^\/r2-catalog\/([^/]+)\/namespaces\/([^/]+)\/tables\/([^/]+)\/maintenance-configs$/.exec(
      rest,
    );
    if (maint) {
      const key = `${maint[2]}.${maint[3]}`;
      const table = s.tables.get(key);
      if (!table) return fail(res, 404, 40401, `table ${key} not found`);
      if (req.method === 'GET') return ok(res, table);
      for (const k of ['compaction', 'snapshot_expiration']) {
        if (body[k]) table[k] = { ...(table[k] as object), ...(body[k] as object) };
      }
      return ok(res, table);
    }
    if (rest === '/pipelines/v1/validate_sql' && req.method === 'POST') {
      const problem = sqlProblem(String(body.sql ?? ''));
      return problem ? fail(res, 400, 2001, problem) : ok(res, { tables: {} });
    }
    const m = /^\/pipelines\/v1\/(streams|sinks|pipelines)(?:\/([^/]+))?$/.exec(rest);
    if (!m) return fail(res, 404, 7003, 'Could not route to this path');
    const kind = m[1] as 'streams' | 'sinks' | 'pipelines';
    const list = lists[kind]!;
    if (!m[2] && req.method === 'GET') {
      if (s.failLists.has(kind)) return fail(res, 500, 10001, `internal error listing ${kind}`);
      const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 20), s.maxPerPage);
      const page = Number(url.searchParams.get('page') ?? 1);
      const items = list.slice((page - 1) * perPage, page * perPage).map((x) => publicView(kind, x));
      return ok(res, items, {
        result_info: { page, per_page: perPage, count: items.length, total_count: list.length },
      });
    }
    if (m[2]) {
      const item = list.find((x) => x.id === m[2]);
      if (!item) return fail(res, 404, 1000, `${kind.slice(0, -1)} not found`);
      if (req.method === 'GET') return ok(res, publicView(kind, item));
      if (req.method === 'DELETE') {
        list.splice(list.indexOf(item), 1);
        if (kind === 'streams') {
          s.ingested.delete(item.id);
          for (const p of [...s.pipelines]) {
            if (new RegExp(`\\bFROM\\s+${item.name}\\b`).test(p.sql))
              s.pipelines.splice(s.pipelines.indexOf(p), 1);
          }
        }
        return ok(res, null);
      }
    }
    if (!m[2] && req.method === 'POST') return create(kind, body, res);
    return fail(res, 405, 10405, 'method not allowed');
  };

  const publicView = (kind: string, x: unknown) => {
    if (kind !== 'sinks') return x;
    const sink = x as Sink;
    const { token: _secret, ...config } = sink.config;
    return { ...sink, config };
  };

  const sqlProblem = (sql: string): string | undefined => {
    const into = /INSERT\s+INTO\s+(\w+)/i.exec(sql)?.[1];
    const from = /\bFROM\s+(\w+)(?![\w.])/i.exec(sql)?.[1]; // not EXTRACT(YEAR FROM event.x)
    if (!into || !from) return 'SQL must be INSERT INTO <sink> SELECT ... FROM <stream>';
    if (!s.sinks.some((k) => k.name === into)) return `sink ${into} not found`;
    if (!s.streams.some((k) => k.name === from)) return `stream ${from} not found`;
    return s.rejectSql?.(sql);
  };

  const create = (
    kind: 'streams' | 'sinks' | 'pipelines',
    body: Record<string, unknown>,
    res: ServerResponse,
  ) => {
    const name = String(body.name ?? '');
    if (!NAME.test(name)) return fail(res, 400, 1001, `invalid name "${name}"`);
    if (lists[kind]!.some((x) => x.name === name))
      return fail(res, 409, 1002, `a ${kind.slice(0, -1)} named ${name} already exists`);
    const stamp = { id: randomUUID().replaceAll('-', ''), created_at: now(), modified_at: now() };
    if (kind === 'streams') {
      const fields = ((body.schema as { fields?: Record<string, unknown>[] })?.fields ?? []) as Record<
        string,
        unknown
      >[];
      const bad = fields.find((f) => !FIELD_TYPES.has(String(f.type)) || !NAME.test(String(f.name)));
      if (bad) return fail(res, 400, 1004, `invalid schema field ${JSON.stringify(bad)}`);
      const stream: Stream = {
        ...stamp,
        name,
        version: 1,
        endpoint: `${s.server.url}/ingest/${stamp.id}`,
        schema: body.schema ? { fields } : null,
        format: body.format ?? { type: 'json' },
        http: body.http,
        worker_binding: body.worker_binding,
      };
      s.streams.push(stream);
      return ok(res, stream);
    }
    if (kind === 'sinks') {
      const config = (body.config ?? {}) as Record<string, unknown>;
      if (body.type !== 'r2' && body.type !== 'r2_data_catalog')
        return fail(res, 400, 1005, `invalid sink type ${String(body.type)}`);
      if (body.type === 'r2_data_catalog') {
        const extra = Object.keys(config).find((k) => !CATALOG_CONFIG_KEYS.has(k));
        if (extra) return fail(res, 400, 1006, `unknown field config.${extra} for r2_data_catalog sinks`);
        for (const k of ['token', 'account_id', 'bucket', 'table_name']) {
          if (!config[k]) return fail(res, 400, 1007, `config.${k} is required`);
        }
        const table = `${config.namespace ?? 'default'}.${config.table_name}`;
        if (s.tables.has(table))
          return fail(
            res,
            400,
            1008,
            `table ${table} already exists; a sink cannot write to an existing table`,
          );
      }
      const sink: Sink = { ...stamp, name, type: String(body.type), format: body.format, config };
      s.sinks.push(sink);
      return ok(res, publicView('sinks', sink));
    }
    const problem = sqlProblem(String(body.sql ?? ''));
    if (problem) return fail(res, 400, 2001, problem);
    const pipeline: Pipeline = {
      ...stamp,
      name,
      sql: String(body.sql),
      status: 'running',
      failure_reason: null,
    };
    s.pipelines.push(pipeline);
    return ok(res, pipeline);
  };

  const graphql = (body: Record<string, unknown>, res: ServerResponse) => {
    const query = String(body.query ?? '');
    const vars = (body.variables ?? {}) as Record<string, unknown>;
    if (vars.accountTag !== s.accountId)
      return json(res, 200, { data: null, errors: [{ message: 'unknown account' }] });
    // GraphQL answers 200 with `errors` for a query naming what the schema does not have.
    for (const m of query.matchAll(/(pipelines\w+AdaptiveGroups)\s*\([^)]*\)\s*\{([\s\S]*?)\}\s*\}/g)) {
      const allowed = DATASETS[m[1]!];
      const unknown = allowed
        ? [...m[2]!.matchAll(/[a-zA-Z_]+/g)].map((x) => x[0]).find((f) => !allowed.has(f))
        : m[1];
      if (unknown)
        return json(res, 200, { data: null, errors: [{ message: `unknown field ${unknown} in ${m[1]}` }] });
    }
    const account: Record<string, unknown> = {};
    for (const dataset of Object.keys(s.metrics)) {
      if (query.includes(dataset)) account[dataset] = s.metrics[dataset];
    }
    for (const m of query.matchAll(/(pipelines\w+AdaptiveGroups)/g)) account[m[1]!] ??= [];
    return json(res, 200, { data: { viewer: { accounts: [account] } }, errors: null });
  };

  s.server = await startServer(handle);
  s.apiBase = `${s.server.url}/client/v4`;
  s.sqlBase = s.server.url;
  s.roll = () => {
    for (const k of s.sinks) {
      const key = `${k.config.namespace ?? 'default'}.${k.config.table_name}`;
      if (!s.tables.has(key))
        s.tables.set(key, { compaction: { state: 'disabled' }, snapshot_expiration: { state: 'disabled' } });
    }
  };
  s.seed = (kind, item) => {
    const stamp = { id: randomUUID().replaceAll('-', ''), created_at: now(), modified_at: now() };
    const full = { ...stamp, ...item } as never;
    if (kind === 'stream')
      s.streams.push({
        version: 1,
        endpoint: `${s.server.url}/ingest/${stamp.id}`,
        ...(full as object),
      } as Stream);
    if (kind === 'sink') s.sinks.push(full);
    if (kind === 'pipeline') s.pipelines.push({ status: 'running', ...(full as object) } as Pipeline);
  };
  s.close = () => s.server.close();
  return s;
}

/** Environment pointing the CLI at a stand-in. */
export function standInEnv(s: StandIn, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CLOUDFLARE_API_TOKEN: s.token,
    CLOUDFLARE_ACCOUNT_ID: s.accountId,
    CLOUDFLARE_API_BASE_URL: s.apiBase,
    LAKEHOUSE_BASIN_SQL_BASE_URL: s.sqlBase,
    LAKEHOUSE_R2_BUCKET: 'lake-bucket',
    LAKEHOUSE_R2_CATALOG_TOKEN: 'catalog-secret',
    ...extra,
  };
}
