import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LakehouseError } from '../errors.js';
import { recordSchemaOf } from './recordSchema.js';
import { frozenStreamSchema, type PipelinesStreamSchema } from './streamSchema.js';
import { transformFilter } from './transformFilter.js';
import type { PipelineDefinition } from './types.js';
import { versionNames } from './versions.js';

/** Environment variable holding the R2 bucket of the sinks (and of the catalog Basin SQL reads). */
export const BUCKET_ENV = 'LAKEHOUSE_R2_BUCKET';
/** Environment variable holding the R2 Data Catalog token of the sinks. */
export const CATALOG_TOKEN_ENV = 'LAKEHOUSE_R2_CATALOG_TOKEN';
/** Cloudflare's default and our default roll interval, in seconds. */
export const DEFAULT_ROLL_INTERVAL = 300;
/** Cloudflare's minimum roll interval for r2-data-catalog sinks, in seconds. */
export const MIN_ROLL_INTERVAL = 60;

/** Options of {@link buildPlan}. */
export interface PlanOptions {
  /** Directory the schema and SQL files are written to. Default `.`. */
  outDir?: string;
  /** Seconds between files written by each sink (min 60). Default 300. */
  rollIntervalSeconds?: number;
  /** Version to plan per lake stream (`{ orders: 2 }`). Default 1. */
  versions?: Readonly<Record<string, number>>;
  /** R2 Data Catalog compaction target file size in MB: 64, 128, 256 or 512. Default 128. */
  compactionTargetMb?: number;
  /** Expire snapshots older than this many days. Default 30. */
  snapshotOlderThanDays?: number;
  /** Always keep this many most recent snapshots. Default 5. */
  snapshotRetainLast?: number;
}

/** Default R2 Data Catalog compaction target file size, in MB (64, 128, 256 or 512). */
export const DEFAULT_COMPACTION_TARGET_MB = 128;
/** Cloudflare's default snapshot expiration: snapshots older than 30 days, keeping the last 5. */
export const DEFAULT_SNAPSHOT_OLDER_THAN_DAYS = 30;
export const DEFAULT_SNAPSHOT_RETAIN_LAST = 5;

/** Body of `POST /accounts/{id}/pipelines/v1/streams`. */
export interface StreamRequest {
  name: string;
  format: { type: 'json'; timestamp_format: 'rfc3339' };
  schema: PipelinesStreamSchema;
  http: { enabled: true; authentication: true };
  worker_binding: { enabled: true };
}

/**
 * Body of `POST /accounts/{id}/pipelines/v1/sinks` for an R2 Data Catalog sink. The config
 * has no partitioning: Cloudflare's catalog sinks do not take one (see docs/cloudflare.md).
 * `bucket`, `account_id` and `token` are `$VAR` placeholders until {@link resolveSinkRequest}.
 */
export interface SinkRequest {
  name: string;
  type: 'r2_data_catalog';
  format: { type: 'parquet'; compression: 'zstd' };
  config: {
    account_id: string;
    bucket: string;
    namespace: string;
    table_name: string;
    token: string;
    rolling_policy: { interval_seconds: number };
  };
}

/** Table maintenance settings of the R2 Data Catalog (`.../maintenance-configs`). */
export interface MaintenanceConfig {
  compaction: { state: 'enabled'; target_size_mb: number };
  snapshot_expiration: { state: 'enabled'; older_than_days: number; retain_last: number };
}

/** Everything to create in Cloudflare for one version of one pipeline. */
export interface PipelinePlan {
  /** Pipeline name of this version (`orders_events`, `orders_events_v2`). */
  pipeline: string;
  /** The lake stream (`orders`), whatever the version. */
  lakeStream: string;
  version: number;
  /** Cloudflare stream name of this version (`orders`, `orders_v2`). */
  stream: string;
  sink: string;
  namespace: string;
  table: string;
  /**
   * The transform's partition columns. They are columns of every row; the catalog sink does
   * not partition the table by them (it has no partitioning option).
   */
  partition: string[];
  /** The condition by which the transform drops records (`total_amount > 0`), or null. */
  filter: string | null;
  files: {
    /** `<stream>.schema.json`: the stream schema. */
    schema: { path: string; content: string };
    /** `<pipeline>.sql`: `INSERT INTO <sink> SELECT ... FROM <stream> ...`. */
    sql: { path: string; content: string };
  };
  requests: { stream: StreamRequest; sink: SinkRequest; pipeline: { name: string; sql: string } };
  maintenance: MaintenanceConfig;
}

/** Name of the sink that writes a pipeline's table (of version `version`, default 1). */
export function sinkName(def: PipelineDefinition, version = 1): string {
  return versionNames(def, version).sink;
}

/**
 * The Cloudflare pipeline SQL of a definition: its transform reading from the stream
 * instead of `source`, inserted into the sink (of version `version`, default 1).
 */
export function pipelineSql(def: PipelineDefinition, version = 1): string {
  const names = versionNames(def, version);
  const select = def.transform.trim().replace(/;\s*$/, '');
  const fromStream = select.replace(/\bFROM(\s+)source\b/gi, (_m, ws: string) => `FROM${ws}${names.stream}`);
  return `INSERT INTO ${names.sink}\n${fromStream};\n`;
}

function schemaJson(schema: PipelinesStreamSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

function checkSetting(name: string, value: number, ok: boolean, allowed: string): void {
  if (!Number.isInteger(value) || !ok) {
    throw new LakehouseError('CONFIG', `${name} must be ${allowed}; got ${value}`);
  }
}

/**
 * The resources of each definition, at the version `options.versions` gives for its lake
 * stream (default 1): stream, sink and pipeline request bodies, the schema and SQL files,
 * and the table maintenance settings. Creation order is stream, sink, pipeline.
 */
export function buildPlan(defs: readonly PipelineDefinition[], options: PlanOptions = {}): PipelinePlan[] {
  const outDir = options.outDir ?? '.';
  const roll = options.rollIntervalSeconds ?? DEFAULT_ROLL_INTERVAL;
  checkSetting(
    'roll interval',
    roll,
    roll >= MIN_ROLL_INTERVAL,
    `a whole number of seconds, at least ${MIN_ROLL_INTERVAL}`,
  );
  const target = options.compactionTargetMb ?? DEFAULT_COMPACTION_TARGET_MB;
  checkSetting(
    'compaction target size',
    target,
    [64, 128, 256, 512].includes(target),
    '64, 128, 256 or 512 (MB)',
  );
  const olderThan = options.snapshotOlderThanDays ?? DEFAULT_SNAPSHOT_OLDER_THAN_DAYS;
  checkSetting('snapshot expiration age', olderThan, olderThan >= 1, 'a whole number of days, at least 1');
  const retain = options.snapshotRetainLast ?? DEFAULT_SNAPSHOT_RETAIN_LAST;
  checkSetting('snapshots to retain', retain, retain >= 1, 'a whole number, at least 1');
  return defs.map((def) => {
    if (def.destination.type !== 'r2-data-catalog') {
      throw new LakehouseError('CONFIG', `pipeline ${def.name}: only r2-data-catalog sinks are provisioned`);
    }
    const version = options.versions?.[def.stream] ?? 1;
    const n = versionNames(def, version);
    const schema = frozenStreamSchema(def.stream, recordSchemaOf(def));
    const sql = pipelineSql(def, version);
    return {
      pipeline: n.pipeline,
      lakeStream: def.stream,
      version,
      stream: n.stream,
      sink: n.sink,
      namespace: def.destination.namespace,
      table: n.table,
      partition: [...def.destination.partition],
      filter: transformFilter(def) ?? null,
      files: {
        schema: { path: join(outDir, `${n.stream}.schema.json`), content: schemaJson(schema) },
        sql: { path: join(outDir, `${n.pipeline}.sql`), content: sql },
      },
      requests: {
        stream: {
          name: n.stream,
          format: { type: 'json', timestamp_format: 'rfc3339' },
          schema: { fields: schema.fields.map((f) => ({ ...f })) },
          http: { enabled: true, authentication: true },
          worker_binding: { enabled: true },
        },
        sink: {
          name: n.sink,
          type: 'r2_data_catalog',
          format: { type: 'parquet', compression: 'zstd' },
          config: {
            account_id: '$CLOUDFLARE_ACCOUNT_ID',
            bucket: `$${BUCKET_ENV}`,
            namespace: def.destination.namespace,
            table_name: n.table,
            token: `$${CATALOG_TOKEN_ENV}`,
            rolling_policy: { interval_seconds: roll },
          },
        },
        pipeline: { name: n.pipeline, sql },
      },
      maintenance: {
        compaction: { state: 'enabled', target_size_mb: target },
        snapshot_expiration: { state: 'enabled', older_than_days: olderThan, retain_last: retain },
      },
    };
  });
}

/** A sink request with its account, bucket and token filled in (the token is a secret: never print it). */
export function resolveSinkRequest(
  req: SinkRequest,
  values: { accountId: string; bucket: string; token: string },
): SinkRequest {
  return {
    ...req,
    config: { ...req.config, account_id: values.accountId, bucket: values.bucket, token: values.token },
  };
}

/** Writes a plan's schema and SQL files (creating their directories). */
export function writePlanFiles(plan: readonly PipelinePlan[]): void {
  for (const p of plan) {
    for (const f of [p.files.schema, p.files.sql]) {
      mkdirSync(dirname(f.path), { recursive: true });
      writeFileSync(f.path, f.content);
    }
  }
}
