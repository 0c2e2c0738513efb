import type { z } from 'zod';

/**
 * A Cloudflare pipeline as code: a stream (source), a SQL transform and a sink
 * (destination). The shape follows the plan's Step 1, with names valid for Cloudflare.
 */
export interface PipelineDefinition {
  /** Pipeline name, `^[a-zA-Z0-9_]+$` (the plan's `orders-events` becomes `orders_events`). */
  name: string;
  /** The lake stream whose records feed it (also the Pipelines stream name). */
  stream: string;
  /**
   * Record schema of the stream (from the catalog, see `pipelinesOf`). Default: the
   * built-in stream of that name.
   */
  schema?: z.ZodObject;
  /** How records reach the stream. */
  source: 'http' | 'workers-binding';
  destination: {
    type: 'r2' | 'r2-data-catalog';
    format: 'iceberg' | 'parquet' | 'json';
    /** Iceberg namespace (r2-data-catalog). */
    namespace: string;
    /** Lake table name, `^[a-zA-Z0-9_]+$`. */
    table: string;
    /** Partition columns, in order; each must be a column of the transform's output. */
    partition: string[];
  };
  /**
   * `SELECT ... FROM source AS event [WHERE ...]`: the transform from stream records to
   * table rows. Reads only fields of the stream schema; derives columns such as `year`.
   */
  transform: string;
}
