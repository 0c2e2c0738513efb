/**
 * @company-manager/lakehouse: business events from PostgreSQL into a data lakehouse.
 * The outbox and the domain are here; the relay, Pipelines and the local data platform
 * also have subpath exports (`/relay`, `/pipelines`, `/lakehouse`).
 */

export { defineConfig, type LakehouseConfig, type StreamRelaySettings } from './config/defineConfig.js';
export {
  CONFIG_FILES,
  type LoadConfigOptions,
  loadConfig,
  type ResolvedConfig,
} from './config/loadConfig.js';
export {
  DEFAULT_DATABASE_URL,
  DEFAULT_DB_SCHEMA,
  DEFAULT_REDIS_URL,
  type EnvConfig,
  envConfig,
} from './config.js';
export { type AggregateDefinition, foldEvents } from './domain/aggregate.js';
export {
  isStreamName,
  STREAM_NAMES,
  type StreamDefinition,
  type StreamInput,
  type StreamName,
  type StreamRecord,
  type Streams,
  streams,
} from './domain/catalog.js';
export { type DefaultCatalog, defaultCatalog } from './domain/defaultCatalog.js';
export {
  type Catalog,
  type CatalogEvent,
  type CatalogInput,
  type CatalogRecord,
  type CatalogStream,
  type CatalogStreamName,
  defineCatalog,
} from './domain/defineCatalog.js';
export {
  defineStream,
  type LakeOptions,
  type LakeStream,
  type StreamOptions,
} from './domain/defineStream.js';
export {
  type CreateEventOptions,
  createEvent,
  type EventEnvelope,
  type EventInput,
  type EventMetadata,
  MAX_RECORD_BYTES,
  toLakeRecord,
} from './domain/envelope.js';
export {
  count,
  float,
  id,
  integer,
  MONEY_PRECISION,
  MONEY_SCALE,
  money,
  nullable,
  tenantId,
  text,
  timestamp,
} from './domain/fields.js';
export type { LakeColumn, LakeColumnType } from './domain/lakeColumn.js';
export {
  cancelOrder,
  fulfillOrder,
  ORDER_EVENT_TYPES,
  type OrderEvent,
  type OrderState,
  type OrderStatus,
  orderAggregate,
  payOrder,
  placeOrder,
  refundOrder,
} from './domain/order.js';
export {
  ConcurrencyError,
  isConcurrencyError,
  isLakehouseError,
  isValidationError,
  LakehouseError,
  type LakehouseErrorCode,
  ValidationError,
  type ValidationIssue,
} from './errors.js';
export type { EmitResult } from './outbox/appendEvents.js';
export type { AppendResult, ExpectedVersion } from './outbox/appendToStream.js';
export type { DrizzleExecutable, PgQueryable, Queryable } from './outbox/executor.js';
export { MIGRATIONS_FOLDER, type MigrateOptions, type MigrateResult, migrate } from './outbox/migrate.js';
export {
  type CatalogEventInput,
  createOutbox,
  emit,
  type Outbox,
  type OutboxOptions,
  resolveOutboxOptions,
} from './outbox/outbox.js';
export type { PruneOptions } from './outbox/prune.js';
export type { StoredEvent } from './outbox/readStream.js';
export type { RollupSpec } from './outbox/rollup.js';
export type { PartitionRef } from './outbox/rows.js';
export type { OutboxStatus, StreamStatus } from './outbox/status.js';
export type { OutboxTransaction, TransactionResult } from './outbox/transaction.js';
export { createRelayTrigger, type RelayTrigger, type RelayTriggerOptions } from './relay/trigger.js';
