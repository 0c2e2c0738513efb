import type { CloudflareApi } from './cloudflare/api.js';
import type { DeployedStream } from './cloudflare/deployed.js';
import { recordSchemaOf } from './recordSchema.js';
import type { PipelinesField, PipelinesStreamSchema } from './streamSchema.js';
import { frozenStreamSchema, validateAgainst } from './streamSchema.js';
import type { PipelineDefinition } from './types.js';
import { versionOfName } from './versions.js';

/** One deployed version of a lake stream: where to send and the schema it stores. */
export interface StreamRoute {
  version: number;
  /** Cloudflare stream id (what a Workers binding names). */
  id: string;
  /** Cloudflare stream name (`orders`, `orders_v2`). */
  name: string;
  /** The stream's HTTP ingest endpoint. */
  url: string;
  /** The schema as deployed (not as the code describes it now). */
  schema: PipelinesStreamSchema;
  /**
   * Fields of the catalog's stream schema this deployed version does not have (optional
   * fields added since it was deployed): a record is sent to it only when they are null,
   * and then without them, in the form the version stores.
   */
  drop?: readonly string[];
}

/** Deployed versions per lake stream, newest first. */
export type StreamRoutes = Readonly<Record<string, readonly StreamRoute[]>>;

function deployedSchema(s: DeployedStream): PipelinesStreamSchema {
  return {
    fields: (s.schema?.fields ?? []).map((f) => ({ ...f, required: f.required === true }) as PipelinesField),
  };
}

/**
 * Reads the account's streams and returns, per lake stream, its deployed versions (newest
 * first) with their endpoints and deployed schemas. The relay sends each record to the
 * newest version whose deployed schema it matches ({@link routeRecord}), so a record is
 * checked against what Cloudflare will really store, not against the current code.
 */
export async function loadStreamRoutes(
  api: CloudflareApi,
  defs?: readonly PipelineDefinition[],
): Promise<StreamRoutes> {
  const list = defs ?? Object.values((await import('./definitions.js')).pipelines);
  return routesFromStreams(await api.list<DeployedStream>('/pipelines/v1/streams'), list);
}

/** {@link loadStreamRoutes} from an already listed set of streams. */
export function routesFromStreams(
  streams: readonly DeployedStream[],
  list: readonly PipelineDefinition[],
): StreamRoutes {
  const routes: Record<string, StreamRoute[]> = {};
  for (const def of list) {
    const local = frozenStreamSchema(def.stream, recordSchemaOf(def)).fields.map((f) => f.name);
    routes[def.stream] = streams
      .map((s) => ({ s, version: versionOfName(def, 'stream', s.name) }))
      .filter((x): x is { s: DeployedStream; version: number } => x.version !== undefined && !!x.s.endpoint)
      .map(({ s, version }) => {
        const schema = deployedSchema(s);
        const drop = local.filter((f) => !schema.fields.some((d) => d.name === f));
        return {
          version,
          id: s.id,
          name: s.name,
          url: s.endpoint!,
          schema,
          ...(drop.length > 0 ? { drop } : {}),
        };
      })
      .sort((a, b) => b.version - a.version);
  }
  return routes;
}

/**
 * `record` in the form `route` stores: without the fields the version lacks when they are
 * null, or the reason it cannot go there (such a field has a value the version would lose).
 */
export function fitRecord(route: StreamRoute, record: unknown): { record: unknown } | { problem: string } {
  if (!route.drop || record === null || typeof record !== 'object') return { record };
  const rec = record as Record<string, unknown>;
  const set = route.drop.filter((f) => rec[f] !== undefined && rec[f] !== null);
  if (set.length > 0) return { problem: `field "${set[0]}" is not in this version's schema` };
  if (!route.drop.some((f) => f in rec)) return { record };
  return { record: Object.fromEntries(Object.entries(rec).filter(([k]) => !route.drop!.includes(k))) };
}

/**
 * The newest version whose deployed schema `record` matches, with the record in the form it
 * stores ({@link fitRecord}), or the reason it matches none (the newest version's problem):
 * Cloudflare answers 200 to a record that does not match and drops it later, so such a
 * record must not be sent.
 */
export function routeRecord(
  stream: string,
  routes: readonly StreamRoute[] | undefined,
  record: unknown,
): { route: StreamRoute; record: unknown } | { problem: string } {
  if (!routes || routes.length === 0) {
    return { problem: `stream ${stream} is not deployed to Cloudflare (run "lakehouse pipelines apply")` };
  }
  let first: string | undefined;
  for (const route of routes) {
    const fitted = fitRecord(route, record);
    const problem = 'problem' in fitted ? fitted.problem : validateAgainst(route.schema, fitted.record);
    if (!problem && 'record' in fitted) return { route, record: fitted.record };
    first ??= `${route.name} (v${route.version}): ${problem}`;
  }
  return { problem: `record matches no deployed version of stream ${stream}; newest: ${first}` };
}
