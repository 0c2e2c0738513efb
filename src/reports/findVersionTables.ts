import { LakehouseError } from '../errors.js';
import { listTables } from '../lakehouse/warehouseCatalog.js';
import type { CloudflareApi } from '../pipelines/cloudflare/api.js';
import { readDeployed } from '../pipelines/cloudflare/deployed.js';
import { deployedVersions } from '../pipelines/compare.js';
import { tablesOfVersions } from '../pipelines/deployedTables.js';
import type { PipelineDefinition } from '../pipelines/types.js';
import { baseTable, versionsInTableNames } from './versionTables.js';

/** Per base table, the qualified tables of its stream's versions, oldest first; and which may be absent. */
export interface VersionTableNames {
  names: Record<string, string[]>;
  /** Tables that may not exist (a retired version's): left out when they cannot be read. */
  optional: Set<string>;
}

function fromTableNames(defs: readonly PipelineDefinition[], byNamespace: Map<string, string[]>) {
  const names: Record<string, string[]> = {};
  for (const def of defs) {
    const versions = versionsInTableNames(def, byNamespace.get(def.destination.namespace) ?? []);
    names[baseTable(def)] = tablesOfVersions(def, versions);
  }
  return { names, optional: new Set<string>() };
}

/** The version tables present in a local warehouse (its directories with Iceberg metadata). */
export async function warehouseVersionTables(
  warehouse: string,
  defs: readonly PipelineDefinition[],
): Promise<VersionTableNames> {
  const byNamespace = new Map<string, string[]>();
  for (const ns of new Set(defs.map((d) => d.destination.namespace))) {
    byNamespace.set(ns, await listTables(warehouse, ns));
  }
  return fromTableNames(defs, byNamespace);
}

/** The version tables a local platform lists in its Iceberg REST catalog (`GET /catalog/v1/...`). */
export async function catalogVersionTables(
  baseUrl: string,
  defs: readonly PipelineDefinition[],
): Promise<VersionTableNames> {
  const byNamespace = new Map<string, string[]>();
  for (const ns of new Set(defs.map((d) => d.destination.namespace))) {
    const url = `${baseUrl.replace(/\/$/, '')}/catalog/v1/namespaces/${encodeURIComponent(ns)}/tables`;
    const token = process.env.LAKEHOUSE_DASHBOARD_TOKEN;
    const res = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(30_000),
    }).catch(() => undefined);
    // Unreachable: the SQL that follows on the same server says so, with its own message.
    if (!res) return fromTableNames(defs, byNamespace);
    // 404: the namespace holds no table yet.
    if (res.status === 404) continue;
    const body = (await res.json().catch(() => undefined)) as
      | { identifiers?: { name: string }[] }
      | undefined;
    if (!res.ok || !body?.identifiers) {
      throw new LakehouseError('NOT_FOUND', `the lake's catalog at ${url} failed (HTTP ${res.status})`);
    }
    byNamespace.set(
      ns,
      body.identifiers.map((i) => i.name),
    );
  }
  return fromTableNames(defs, byNamespace);
}

/**
 * The version tables of each stream on Cloudflare: every version from 1 to the newest one
 * with a deployed stream, sink or pipeline. A retired version's table stays in the catalog
 * and holds the rows written before the change, so versions no longer deployed are read
 * too, as optional tables (a version that never wrote has no table).
 */
export async function cloudflareVersionTables(
  api: CloudflareApi,
  defs: readonly PipelineDefinition[],
): Promise<VersionTableNames> {
  const deployed = await readDeployed(api);
  const names: Record<string, string[]> = {};
  const optional = new Set<string>();
  for (const def of defs) {
    const live = deployedVersions(def, deployed);
    const newest = Math.max(1, ...live);
    const all = Array.from({ length: newest }, (_, i) => i + 1);
    names[baseTable(def)] = tablesOfVersions(def, all);
    for (const [i, table] of tablesOfVersions(def, all).entries()) {
      if (!live.includes(i + 1)) optional.add(table);
    }
  }
  return { names, optional };
}
