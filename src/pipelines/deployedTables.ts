import type { CloudflareApi } from './cloudflare/api.js';
import { readDeployed } from './cloudflare/deployed.js';
import { deployedVersions } from './compare.js';
import type { PipelineDefinition } from './types.js';
import { versionNames } from './versions.js';

/**
 * The qualified Iceberg tables of every deployed version of each lake stream
 * (`{ orders: ['lakehouse.orders', 'lakehouse.orders_v2'] }`), oldest first. A report or
 * reconcile over Cloudflare reads them together (`UNION ALL`, deduplicated on `event_id`):
 * a retired version's table stays and holds the rows written before the change.
 */
export function tablesOfVersions(def: PipelineDefinition, versions: readonly number[]): string[] {
  return versions.map((v) => `${def.destination.namespace}.${versionNames(def, v).table}`);
}

/**
 * {@link tablesOfVersions} for every definition, from the account's streams, sinks and
 * pipelines. A version is counted when any of its resources exists; a retired version's
 * table is not listed here (pass its version to `tablesOfVersions` to keep reading it).
 */
export async function deployedTables(
  api: CloudflareApi,
  defs?: readonly PipelineDefinition[],
): Promise<Record<string, string[]>> {
  const list = defs ?? Object.values((await import('./definitions.js')).pipelines);
  const deployed = await readDeployed(api);
  const out: Record<string, string[]> = {};
  for (const def of list) out[def.stream] = tablesOfVersions(def, deployedVersions(def, deployed));
  return out;
}
