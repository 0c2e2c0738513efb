import type { Deployed, DeployedPipeline, DeployedSink, DeployedStream } from './cloudflare/deployed.js';
import type { PipelinePlan, SinkRequest, StreamRequest } from './plan.js';
import type { PipelinesField } from './streamSchema.js';
import type { PipelineDefinition } from './types.js';
import { versionOfName } from './versions.js';

/** Kinds of resources `plan`/`apply` manage, in creation order. */
export type ResourceKind = 'stream' | 'sink' | 'pipeline' | 'maintenance';

/**
 * What a resource needs. `create`: missing. `exists`: deployed and the same. `drift`:
 * deployed and different (Cloudflare cannot alter it: a new version is the way).
 * `update`: table maintenance settings differ (those can be changed in place). `pending`:
 * the table does not exist yet (the sink creates it at its first roll), so its maintenance
 * cannot be set yet. `old version`: a previous version, left alone until retired.
 */
export type ChangeAction = 'create' | 'exists' | 'drift' | 'update' | 'pending' | 'old version';

/** One line of a plan. */
export interface Change {
  kind: ResourceKind;
  name: string;
  lakeStream: string;
  version: number;
  action: ChangeAction;
  /** For `drift` and `update`: what differs, one entry per field (`field "x": type string, deployed int64`). */
  differences?: string[];
}

/** Every version of a definition that has any deployed resource, ascending. */
export function deployedVersions(def: PipelineDefinition, deployed: Deployed): number[] {
  const found = new Set<number>();
  const scan = (kind: 'stream' | 'sink' | 'pipeline', names: { name: string }[]) => {
    for (const { name } of names) {
      const v = versionOfName(def, kind, name);
      if (v !== undefined) found.add(v);
    }
  };
  scan('stream', deployed.streams);
  scan('sink', deployed.sinks);
  scan('pipeline', deployed.pipelines);
  return [...found].sort((a, b) => a - b);
}

type FieldShape = Pick<PipelinesField, 'name' | 'type' | 'required' | 'precision' | 'scale' | 'unit'>;

function fieldShape(f: Partial<PipelinesField>): FieldShape {
  return {
    name: String(f.name),
    type: f.type as PipelinesField['type'],
    required: f.required === true,
    ...(f.precision !== undefined ? { precision: f.precision } : {}),
    ...(f.scale !== undefined ? { scale: f.scale } : {}),
    ...(f.unit !== undefined ? { unit: f.unit } : {}),
  };
}

function describeField(f: FieldShape): string {
  const dec = f.precision !== undefined ? `(${f.precision}, ${f.scale ?? 0})` : '';
  return `${f.type}${dec}${f.unit ? ` ${f.unit}` : ''}${f.required ? ' required' : ' optional'}`;
}

/** Field-by-field differences between the desired stream schema and the deployed one. */
export function streamDifferences(desired: StreamRequest, deployed: DeployedStream): string[] {
  const want = new Map(desired.schema.fields.map((f) => [f.name, fieldShape(f)]));
  const have = new Map((deployed.schema?.fields ?? []).map((f) => [String(f.name), fieldShape(f)]));
  const out: string[] = [];
  for (const [name, w] of want) {
    const h = have.get(name);
    if (!h) out.push(`field "${name}": added (${describeField(w)})`);
    else if (describeField(h) !== describeField(w)) {
      out.push(`field "${name}": ${describeField(w)}, deployed ${describeField(h)}`);
    }
  }
  for (const [name, h] of have) {
    if (!want.has(name)) out.push(`field "${name}": removed (deployed ${describeField(h)})`);
  }
  if (!deployed.schema) out.unshift('deployed stream has no schema (unstructured)');
  return out;
}

/** Differences between the desired sink and the deployed one (the token cannot be read back). */
export function sinkDifferences(desired: SinkRequest, deployed: DeployedSink): string[] {
  const out: string[] = [];
  const cmp = (what: string, want: unknown, have: unknown) => {
    if (have !== undefined && want !== have) out.push(`${what}: ${String(want)}, deployed ${String(have)}`);
  };
  if (deployed.type !== desired.type) out.push(`type: ${desired.type}, deployed ${deployed.type}`);
  cmp('bucket', desired.config.bucket, deployed.config?.bucket);
  cmp('namespace', desired.config.namespace, deployed.config?.namespace);
  cmp('table', desired.config.table_name, deployed.config?.table_name);
  cmp(
    'roll interval',
    desired.config.rolling_policy.interval_seconds,
    deployed.config?.rolling_policy?.interval_seconds,
  );
  cmp('format', desired.format.type, deployed.format?.type);
  cmp('compression', desired.format.compression, deployed.format?.compression);
  return out;
}

/** SQL compared without differences of white space or a final `;`. */
function normalizeSql(sql: string): string {
  return sql
    .replace(/\s+/g, ' ')
    .replace(/\s*;\s*$/, '')
    .trim();
}

/** Whether the deployed pipeline runs the desired SQL. */
export function pipelineDifferences(desiredSql: string, deployed: DeployedPipeline): string[] {
  return normalizeSql(desiredSql) === normalizeSql(deployed.sql)
    ? []
    : [`sql: differs from the definition (deployed: ${normalizeSql(deployed.sql).slice(0, 200)})`];
}

function byName<T extends { name: string }>(list: T[]): Map<string, T> {
  return new Map(list.map((x) => [x.name, x]));
}

/**
 * Compares planned resources (each at the version it is planned at) with the account, and
 * lists older deployed versions as `old version`. Pure: maintenance is compared by
 * `readMaintenance`, which needs the catalog.
 * The sink's bucket is compared with `bucket` (the sink request's placeholder is not).
 */
export function planChanges(
  plans: readonly PipelinePlan[],
  defs: readonly PipelineDefinition[],
  deployed: Deployed,
  bucket: string,
): Change[] {
  const streams = byName(deployed.streams);
  const sinks = byName(deployed.sinks);
  const pipes = byName(deployed.pipelines);
  const changes: Change[] = [];
  for (const p of plans) {
    const def = defs.find((d) => d.stream === p.lakeStream);
    const base = { lakeStream: p.lakeStream, version: p.version };
    if (def) {
      for (const v of deployedVersions(def, deployed).filter((x) => x < p.version)) {
        changes.push({
          ...base,
          version: v,
          kind: 'stream',
          name: `${p.lakeStream} v${v}`,
          action: 'old version',
        });
      }
    }
    const add = (kind: ResourceKind, name: string, differences: string[] | undefined) => {
      if (differences === undefined) changes.push({ ...base, kind, name, action: 'create' });
      else if (differences.length === 0) changes.push({ ...base, kind, name, action: 'exists' });
      else changes.push({ ...base, kind, name, action: 'drift', differences });
    };
    const s = streams.get(p.stream);
    add('stream', p.stream, s && streamDifferences(p.requests.stream, s));
    const k = sinks.get(p.sink);
    const wantSink = { ...p.requests.sink, config: { ...p.requests.sink.config, bucket } };
    add('sink', p.sink, k && sinkDifferences(wantSink, k));
    const q = pipes.get(p.pipeline);
    add('pipeline', p.pipeline, q && pipelineDifferences(p.requests.pipeline.sql, q));
  }
  return changes;
}
