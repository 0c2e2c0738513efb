import { LakehouseError } from '../errors.js';
import type { CloudflareApi } from './cloudflare/api.js';
import type { Change, ResourceKind } from './compare.js';
import { writeMaintenance } from './maintenance.js';
import { type PipelinePlan, resolveSinkRequest } from './plan.js';
import type { Deployment } from './planDeployment.js';

export type { ResourceKind } from './compare.js';

/** What `apply` did (or would do) about one resource. */
export interface ApplyStep {
  kind: ResourceKind;
  name: string;
  version: number;
  /**
   * `exists`, `pending` (table not created yet), `old version`: left alone.
   * `would create` / `would update`: dry run. `created` / `updated`. `failed`: the API
   * refused (see `error`). `skipped`: not tried because a resource it needs failed.
   */
  status:
    | 'exists'
    | 'pending'
    | 'old version'
    | 'would create'
    | 'would update'
    | 'created'
    | 'updated'
    | 'failed'
    | 'skipped';
  error?: string;
}

/** Options of {@link applyDeployment}. */
export interface ApplyOptions {
  /** Create what is missing; without it nothing is changed. Default false. */
  yes?: boolean;
  /** Values the sink requests need: the catalog token is only read when a sink is created. */
  sinkValues: () => { accountId: string; bucket: string; token: string };
  bucket: string;
  /** Called with each step as soon as it is decided (progress output). */
  onStep?: (step: ApplyStep) => void;
}

/** The refusal `apply` gives when a deployed resource differs from the definition. */
export function driftMessage(drift: readonly Change[]): string {
  const lines = drift.map(
    (c) =>
      `  ${c.kind} ${c.name} (version ${c.version}):\n${(c.differences ?? []).map((d) => `    ${d}`).join('\n')}`,
  );
  const streams = [...new Set(drift.map((c) => c.lakeStream))];
  return (
    `deployed resources differ from the definitions, and Cloudflare cannot alter them:\n${lines.join('\n')}\n` +
    `Nothing was changed. To deploy the change as a new version next to the old one (no buffered event is lost), run:\n` +
    `  lakehouse pipelines apply --yes ${streams.map((s) => `--new-version ${s}`).join(' ')}\n` +
    'then, once the old version is drained, "lakehouse pipelines retire <stream> --version N" (see docs/cloudflare.md).'
  );
}

function createPath(kind: ResourceKind): string {
  return kind === 'stream'
    ? '/pipelines/v1/streams'
    : kind === 'sink'
      ? '/pipelines/v1/sinks'
      : '/pipelines/v1/pipelines';
}

function requestOf(kind: ResourceKind, p: PipelinePlan, options: ApplyOptions): unknown {
  if (kind === 'stream') return p.requests.stream;
  if (kind === 'sink') return resolveSinkRequest(p.requests.sink, options.sinkValues());
  return p.requests.pipeline;
}

/** Creates one resource (a pipeline after Cloudflare's own SQL check) or sets a table's maintenance. */
async function applyOne(
  api: CloudflareApi,
  kind: ResourceKind,
  p: PipelinePlan,
  options: ApplyOptions,
): Promise<'created' | 'updated'> {
  if (kind === 'maintenance') {
    await writeMaintenance(api, options.bucket, p);
    return 'updated';
  }
  if (kind === 'pipeline') {
    // validate_sql runs DataFusion, which the DuckDB validation of loadPipelines only approximates.
    await api.call('POST', '/pipelines/v1/validate_sql', { sql: p.requests.pipeline.sql });
  }
  await api.call('POST', createPath(kind), requestOf(kind, p, options));
  return 'created';
}

/**
 * Carries out a compared plan: creates what is missing (streams, then sinks, then
 * pipelines) and sets table maintenance; leaves what exists alone. Refuses, changing
 * nothing, when anything drifted (a `CONFIG` error naming every field that differs).
 * Without `yes` it only reports what it would do.
 */
export async function applyDeployment(
  api: CloudflareApi,
  deployment: Deployment,
  options: ApplyOptions,
): Promise<ApplyStep[]> {
  const drift = deployment.changes.filter((c) => c.action === 'drift');
  if (drift.length > 0) throw new LakehouseError('CONFIG', driftMessage(drift));
  if (options.yes && deployment.changes.some((c) => c.action === 'create' && c.kind === 'sink')) {
    options.sinkValues(); // fail on a missing token before creating anything
  }
  const steps: ApplyStep[] = [];
  const failed = new Set<string>();
  const emit = (s: ApplyStep) => {
    steps.push(s);
    options.onStep?.(s);
  };
  for (const c of deployment.changes) {
    const base = { kind: c.kind, name: c.name, version: c.version };
    const p = deployment.plans.find((x) => x.lakeStream === c.lakeStream && x.version === c.version);
    if (c.action === 'exists' || c.action === 'pending' || c.action === 'old version' || !p) {
      emit({ ...base, status: c.action === 'old version' || c.action === 'pending' ? c.action : 'exists' });
      continue;
    }
    if (!options.yes) {
      emit({ ...base, status: c.action === 'update' ? 'would update' : 'would create' });
      continue;
    }
    if (c.kind === 'pipeline' && (failed.has(`stream:${p.stream}`) || failed.has(`sink:${p.sink}`))) {
      emit({ ...base, status: 'skipped', error: 'its stream or sink could not be created' });
      continue;
    }
    try {
      emit({ ...base, status: await applyOne(api, c.kind, p, options) });
    } catch (e) {
      if (!(e instanceof LakehouseError)) throw e;
      failed.add(`${c.kind}:${c.name}`);
      emit({ ...base, status: 'failed', error: e.message });
    }
  }
  return steps;
}
