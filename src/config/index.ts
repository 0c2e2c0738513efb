/**
 * `@company-manager/lakehouse/config`: what a `lakehouse.config.ts` needs and nothing more
 * (no PostgreSQL, BullMQ or DuckDB modules), so loading a config keeps every command quick
 * to start.
 */

export { type DefaultCatalog, defaultCatalog } from '../domain/defaultCatalog.js';
export {
  type Catalog,
  type CatalogEvent,
  type CatalogInput,
  type CatalogRecord,
  type CatalogStream,
  type CatalogStreamName,
  defineCatalog,
} from '../domain/defineCatalog.js';
export {
  defineStream,
  type LakeOptions,
  type LakeStream,
  type StreamOptions,
} from '../domain/defineStream.js';
export { count, float, id, integer, money, nullable, tenantId, text, timestamp } from '../domain/fields.js';
export { defineConfig, type LakehouseConfig, type StreamRelaySettings } from './defineConfig.js';
