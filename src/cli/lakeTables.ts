import { pipelines } from '../pipelines/definitions.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import type { SqlExecutor } from '../reports/runReport.js';
import { describeVersions, type LakeTables } from '../reports/versionTables.js';

/** Where `report` / `reconcile` read the lake. */
export type LakeSource = { warehouse: string } | { url: string } | { remote: true };

/**
 * The version tables of each stream with several versions, for `report` and `reconcile`:
 * from the warehouse's directories, the local platform's catalog, or (remote) the account's
 * deployed resources. Without `CLOUDFLARE_API_TOKEN` the remote versions cannot be listed:
 * the version-1 tables are read and a note says so.
 */
export async function findLakeTables(
  source: LakeSource,
  execute: SqlExecutor,
  defs: readonly PipelineDefinition[] = Object.values(pipelines),
): Promise<LakeTables> {
  const find = await import('../reports/findVersionTables.js');
  let found: Awaited<ReturnType<typeof find.warehouseVersionTables>>;
  if ('warehouse' in source) found = await find.warehouseVersionTables(source.warehouse, defs);
  else if ('url' in source) found = await find.catalogVersionTables(source.url, defs);
  else {
    if (!process.env.CLOUDFLARE_API_TOKEN?.trim()) {
      process.stderr.write(
        'note: CLOUDFLARE_API_TOKEN is not set, so stream versions cannot be listed; reading the version-1 tables only\n',
      );
      return {};
    }
    const { createCloudflareApi } = await import('../pipelines/cloudflare/api.js');
    const { cloudflareCredentials } = await import('../pipelines/cloudflare/credentials.js');
    found = await find.cloudflareVersionTables(createCloudflareApi(cloudflareCredentials()), defs);
  }
  const { tables, skipped } = await describeVersions(found.names, execute, found.optional);
  for (const t of skipped) process.stderr.write(`note: ${t} (a retired version) cannot be read; left out\n`);
  return tables;
}
