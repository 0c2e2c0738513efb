import { LakehouseError } from '../errors.js';
import type { CloudflareApi } from './cloudflare/api.js';
import { type Deployed, readDeployed } from './cloudflare/deployed.js';
import { type Change, deployedVersions, planChanges } from './compare.js';
import { readMaintenance } from './maintenance.js';
import { buildPlan, type PipelinePlan, type PlanOptions } from './plan.js';
import type { PipelineDefinition } from './types.js';

/** Options of {@link planDeployment}. */
export interface DeploymentOptions extends Omit<PlanOptions, 'versions'> {
  /** R2 bucket of the sinks and the catalog (`LAKEHOUSE_R2_BUCKET`). */
  bucket: string;
  /**
   * Lake streams to move to a new version (`orders` → `orders_v2` stream, sink, table and
   * pipeline) because their deployed version drifted. Refused for a stream without drift.
   */
  newVersion?: readonly string[];
  /**
   * Allow `newVersion` for a stream without drift: the sinks' catalog token is being
   * rotated, and a sink's token cannot be changed. Default false.
   */
  rotateToken?: boolean;
}

/** A plan compared with the account. */
export interface Deployment {
  plans: PipelinePlan[];
  changes: Change[];
  deployed: Deployed;
}

/**
 * Reads the account (a failed list throws: never "create" from a partial view) and plans
 * each definition at its latest deployed version (1 when none), or the next one for the
 * streams in `newVersion`. Then compares streams, sinks, pipelines and table maintenance.
 */
export async function planDeployment(
  api: CloudflareApi,
  defs: readonly PipelineDefinition[],
  options: DeploymentOptions,
): Promise<Deployment> {
  const deployed = await readDeployed(api);
  const latest: Record<string, number> = {};
  for (const def of defs) latest[def.stream] = Math.max(1, ...deployedVersions(def, deployed));
  let plans = buildPlan(defs, { ...options, versions: latest });
  let changes = planChanges(plans, defs, deployed, options.bucket);

  const bump = options.newVersion ?? [];
  for (const stream of bump) {
    if (!defs.some((d) => d.stream === stream)) {
      throw new LakehouseError(
        'CONFIG',
        `--new-version ${stream}: no pipeline reads a stream named "${stream}"`,
      );
    }
    if (!options.rotateToken && !changes.some((c) => c.lakeStream === stream && c.action === 'drift')) {
      throw new LakehouseError(
        'CONFIG',
        `--new-version ${stream}: version ${latest[stream]} matches the definition; nothing to version ` +
          '(add --rotate-token to give its sink a new catalog token)',
      );
    }
  }
  if (bump.length > 0) {
    const versions = { ...latest };
    for (const s of bump) versions[s] = (latest[s] ?? 1) + 1;
    plans = buildPlan(defs, { ...options, versions });
    changes = planChanges(plans, defs, deployed, options.bucket);
  }
  for (const p of plans) {
    const created = changes.some(
      (c) => c.lakeStream === p.lakeStream && c.kind === 'sink' && c.action === 'exists',
    );
    changes.push(
      created
        ? await readMaintenance(api, options.bucket, p)
        : {
            kind: 'maintenance',
            name: `${p.namespace}.${p.table}`,
            lakeStream: p.lakeStream,
            version: p.version,
            action: 'pending',
          },
    );
  }
  return { plans, changes, deployed };
}
