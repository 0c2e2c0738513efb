import { existsSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where things live in a warehouse directory:
 * `<warehouse>/<namespace>/<table>/{data,metadata}` for the Iceberg tables (data laid out
 * as `data/tenant_id=.../year=.../month=.../*.parquet`), and
 * `<warehouse>/_staging/<namespace>.<table>/` for the fsynced ingest log.
 */
export interface TablePaths {
  namespace: string;
  table: string;
  dir: string;
  dataDir: string;
  metadataDir: string;
  stagingDir: string;
  /** `file://` URI of the table directory (the Iceberg `location`), written as is (see toFileUri). */
  location: string;
}

const NAME = /^[A-Za-z0-9_]+$/;

/** Resolves a table's directories; names are checked so they can never leave the warehouse. */
export function tablePaths(warehouse: string, namespace: string, table: string): TablePaths {
  if (!NAME.test(namespace) || !NAME.test(table)) {
    throw new Error(`invalid namespace or table name "${namespace}.${table}": use letters, digits and _`);
  }
  const dir = join(warehouse, namespace, table);
  return {
    namespace,
    table,
    dir,
    dataDir: join(dir, 'data'),
    metadataDir: join(dir, 'metadata'),
    stagingDir: join(warehouse, '_staging', `${namespace}.${table}`),
    location: toFileUri(dir),
  };
}

/**
 * The `file://` location of a local path, written as is: `file://` + the absolute path, no
 * percent-encoding. Java Iceberg (Hadoop), PyIceberg and DuckDB take locations literally, so a
 * space, a non-ASCII letter or DuckDB's own `%3A` escape in a partition directory
 * (`tenant_id=shop%3Aeu`) must appear in the location exactly as in the file system.
 */
export function toFileUri(path: string): string {
  const abs = resolve(path).split(sep).join('/');
  return `file://${abs.startsWith('/') ? '' : '/'}${abs}`;
}

/**
 * The local path of a location. Locations are raw paths (`file:///a b/c`, also Hadoop's
 * `file:/a b/c`); tables written by earlier versions hold percent-encoded ones (`file:///a%20b/c`).
 * A `%` is ambiguous (`shop%3Aeu` is a real directory name), so an encoded reading is used
 * only when the raw path does not exist and the decoded one does.
 */
export function fromFileUri(uri: string): string {
  if (!uri.startsWith('file:')) return uri;
  const rest = uri.slice('file:'.length);
  const raw = rest.startsWith('///')
    ? rest.slice(2)
    : rest.startsWith('//localhost/')
      ? rest.slice(11)
      : rest;
  if (!raw.includes('%') || existsSync(raw)) return raw;
  let decoded: string;
  try {
    decoded = fileURLToPath(uri);
  } catch {
    return raw;
  }
  return existsSync(decoded) ? decoded : raw;
}
