/** The local data platform: Pipelines-compatible ingest, Iceberg tables on disk, SQL and a REST catalog. */
export { addColumns, type NewColumn } from './addColumns.js';
export { type CompactOptions, type CompactResult, compact } from './compact.js';
export { type ExpireOptions, type ExpireResult, expireSnapshots } from './expireSnapshots.js';
export { createIngestor, type Ingestor, type IngestorOptions, type IngestResult } from './ingestor.js';
export { liveDataFiles } from './manifests.js';
export { DEFAULT_WAREHOUSE, resolveServeOptions, resolveWarehouse } from './options.js';
export { type TablePaths, tablePaths } from './paths.js';
export {
  createQueryEngine,
  QueryError,
  type QueryOptions,
  type QueryResult,
  runQuery,
} from './query.js';
export { createLakehouseServer, type LakehouseServer, type ServeOptions } from './server.js';
export { type LoadedTable, loadTable } from './tableMetadata.js';
export type { DataFile, LiveDataFile, TableMetadata } from './types.js';
export type { RecordError } from './validateRecords.js';

import { resolveWarehouse } from './options.js';
import { createQueryEngine, type QueryResult } from './query.js';

/** Runs a query over the default warehouse (`LAKEHOUSE_WAREHOUSE` or `./.lakehouse/warehouse`). */
export function query(sql: string): Promise<QueryResult> {
  return createQueryEngine(resolveWarehouse()).query(sql);
}

/** Runs a query over the default warehouse in which only `tenantId`'s rows are visible. */
export function queryTenant(tenantId: string, sql: string): Promise<QueryResult> {
  return createQueryEngine(resolveWarehouse()).queryTenant(tenantId, sql);
}
