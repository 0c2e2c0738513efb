import type { PipelinesField } from '../streamSchema.js';
import type { CloudflareApi } from './api.js';

/** A stream as `GET /pipelines/v1/streams` lists it (the fields we read). */
export interface DeployedStream {
  id: string;
  name: string;
  endpoint?: string;
  schema?: { fields?: Partial<PipelinesField>[] } | null;
  created_at?: string;
}

/** A sink as listed (its token is never returned). */
export interface DeployedSink {
  id: string;
  name: string;
  type: string;
  format?: { type?: string; compression?: string };
  config?: {
    bucket?: string;
    namespace?: string;
    table_name?: string;
    rolling_policy?: { interval_seconds?: number };
  };
}

/** A pipeline as listed or read (`failure_reason` is set by `GET /pipelines/{id}` when it failed). */
export interface DeployedPipeline {
  id: string;
  name: string;
  sql: string;
  status?: string;
  failure_reason?: string | null;
}

/** What the account has. */
export interface Deployed {
  streams: DeployedStream[];
  sinks: DeployedSink[];
  pipelines: DeployedPipeline[];
}

/**
 * Lists the account's streams, sinks and pipelines through the REST API (all pages).
 * A failed list throws: nothing is ever planned from a partial view of the account.
 */
export async function readDeployed(api: CloudflareApi): Promise<Deployed> {
  const [streams, sinks, pipelines] = await Promise.all([
    api.list<DeployedStream>('/pipelines/v1/streams'),
    api.list<DeployedSink>('/pipelines/v1/sinks'),
    api.list<DeployedPipeline>('/pipelines/v1/pipelines'),
  ]);
  return { streams, sinks, pipelines };
}
