import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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
  /** `file://` URI of the table directory (the Iceberg `location`). */
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
    location: pathToFileURL(dir).href,
  };
}

export const toFileUri = (path: string): string => pathToFileURL(path).href;
export const fromFileUri = (uri: string): string => (uri.startsWith('file:') ? fileURLToPath(uri) : uri);
