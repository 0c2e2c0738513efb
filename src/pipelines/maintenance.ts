import { type CloudflareApi, CloudflareApiError } from './cloudflare/api.js';
import type { Change } from './compare.js';
import type { MaintenanceConfig, PipelinePlan } from './plan.js';

/** The catalog path of a table's maintenance settings. */
export function maintenancePath(bucket: string, namespace: string, table: string): string {
  const e = encodeURIComponent;
  return `/r2-catalog/${e(bucket)}/namespaces/${e(namespace)}/tables/${e(table)}/maintenance-configs`;
}

interface DeployedMaintenance {
  compaction?: { state?: string; target_size_mb?: number };
  snapshot_expiration?: { state?: string; older_than_days?: number; retain_last?: number };
}

function maintenanceDifferences(want: MaintenanceConfig, have: DeployedMaintenance): string[] {
  const out: string[] = [];
  const cmp = (what: string, w: unknown, h: unknown) => {
    if (w !== h) out.push(`${what}: ${String(w)}, deployed ${String(h ?? 'not set')}`);
  };
  cmp('compaction', want.compaction.state, have.compaction?.state);
  cmp('compaction target (MB)', want.compaction.target_size_mb, have.compaction?.target_size_mb);
  cmp('snapshot expiration', want.snapshot_expiration.state, have.snapshot_expiration?.state);
  cmp(
    'expire snapshots older than (days)',
    want.snapshot_expiration.older_than_days,
    have.snapshot_expiration?.older_than_days,
  );
  cmp('snapshots retained', want.snapshot_expiration.retain_last, have.snapshot_expiration?.retain_last);
  return out;
}

/**
 * Compares a planned table's maintenance settings with the catalog's. A table the sink has
 * not created yet (404) is `pending`: compaction and snapshot expiration are set by the
 * first `apply` after the sink's first roll.
 */
export async function readMaintenance(api: CloudflareApi, bucket: string, p: PipelinePlan): Promise<Change> {
  const base = {
    kind: 'maintenance' as const,
    name: `${p.namespace}.${p.table}`,
    lakeStream: p.lakeStream,
    version: p.version,
  };
  let have: DeployedMaintenance;
  try {
    have = await api.call<DeployedMaintenance>('GET', maintenancePath(bucket, p.namespace, p.table));
  } catch (e) {
    if (e instanceof CloudflareApiError && e.status === 404) return { ...base, action: 'pending' };
    throw e;
  }
  const differences = maintenanceDifferences(p.maintenance, have ?? {});
  return differences.length === 0
    ? { ...base, action: 'exists' }
    : { ...base, action: 'update', differences };
}

/** Sets a table's compaction and snapshot expiration (both can be changed in place). */
export async function writeMaintenance(api: CloudflareApi, bucket: string, p: PipelinePlan): Promise<void> {
  await api.call('POST', maintenancePath(bucket, p.namespace, p.table), p.maintenance);
}
