import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type TablePaths, tablePaths } from './paths.js';
import { type LoadedTable, loadTable } from './tableMetadata.js';

const NAME = /^[A-Za-z0-9_]+$/;

async function dirs(path: string): Promise<string[]> {
  try {
    return (await readdir(path, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && NAME.test(d.name))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** Namespaces of a warehouse: its directories holding at least one table. */
export async function listNamespaces(warehouse: string): Promise<string[]> {
  const out: string[] = [];
  for (const ns of await dirs(warehouse)) {
    if ((await listTables(warehouse, ns)).length > 0) out.push(ns);
  }
  return out;
}

/** Tables of a namespace: directories with Iceberg metadata. */
export async function listTables(warehouse: string, namespace: string): Promise<string[]> {
  if (!NAME.test(namespace)) return [];
  const out: string[] = [];
  for (const t of await dirs(join(warehouse, namespace))) {
    if (await loadTable(tablePaths(warehouse, namespace, t))) out.push(t);
  }
  return out;
}

/** Loads a table by name; undefined when the name is invalid or the table has no metadata. */
export async function findTable(
  warehouse: string,
  namespace: string,
  table: string,
): Promise<LoadedTable | undefined> {
  if (!NAME.test(namespace) || !NAME.test(table)) return undefined;
  return loadTable(tablePaths(warehouse, namespace, table));
}

/** A table of the warehouse with its paths and its current metadata, loaded once. */
export interface WarehouseTable {
  namespace: string;
  table: string;
  paths: TablePaths;
  loaded: LoadedTable;
}

/** Every table of the warehouse (or only `only`, by table name), loaded. */
export async function allTables(warehouse: string, only?: string): Promise<WarehouseTable[]> {
  const out: WarehouseTable[] = [];
  for (const ns of await dirs(warehouse)) {
    for (const t of await dirs(join(warehouse, ns))) {
      if (only !== undefined && t !== only) continue;
      const paths = tablePaths(warehouse, ns, t);
      const loaded = await loadTable(paths);
      if (loaded) out.push({ namespace: ns, table: t, paths, loaded });
    }
  }
  return out;
}
