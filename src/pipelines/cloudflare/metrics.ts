import type { CloudflareApi } from './api.js';

/** What Cloudflare's analytics say about one pipeline over a window. */
export interface PipelineMetrics {
  pipelineId: string;
  /** Records the pipeline read from its stream (`pipelinesOperatorAdaptiveGroups.sum.recordsIn`). */
  recordsIn: number;
  /** Records its sink wrote (`pipelinesSinkAdaptiveGroups.sum.recordsWritten`). */
  recordsWritten: number;
  filesWritten: number;
  /** Records dropped after a 200, by `errorType` (`pipelinesUserErrorsAdaptiveGroups`). */
  dropped: Record<string, number>;
  droppedTotal: number;
}

/**
 * The three documented datasets, account-scoped (needs Account Analytics Read). The
 * pipeline datasets are sampled (adaptive): counts are estimates, fine for "any drops?"
 * and "did the sink write?", not for exact reconciliation.
 */
export const PIPELINE_METRICS_QUERY = `query LakehousePipelineMetrics($accountTag: String!, $since: Time!, $until: Time!) {
  viewer {
    accounts(filter: { accountTag: $accountTag }) {
      pipelinesOperatorAdaptiveGroups(limit: 10000, filter: { datetime_geq: $since, datetime_leq: $until }) {
        sum { recordsIn decodeErrors }
        dimensions { pipelineId }
      }
      pipelinesSinkAdaptiveGroups(limit: 10000, filter: { datetime_geq: $since, datetime_leq: $until }) {
        sum { recordsWritten filesWritten }
        dimensions { pipelineId }
      }
      pipelinesUserErrorsAdaptiveGroups(limit: 10000, filter: { datetime_geq: $since, datetime_leq: $until }) {
        count
        dimensions { pipelineId errorFamily errorType }
      }
    }
  }
}`;

interface Group {
  count?: number;
  sum?: Record<string, number | undefined>;
  dimensions?: { pipelineId?: string; errorType?: string; errorFamily?: string };
}

type Account = Record<string, Group[] | undefined>;

/** Reads the per-pipeline metrics of the window `[since, until]`, keyed by pipeline id. */
export async function readPipelineMetrics(
  api: CloudflareApi,
  since: Date,
  until: Date,
): Promise<Map<string, PipelineMetrics>> {
  const data = await api.graphql<{ viewer?: { accounts?: Account[] } }>(PIPELINE_METRICS_QUERY, {
    accountTag: api.accountId,
    since: since.toISOString(),
    until: until.toISOString(),
  });
  const account = data.viewer?.accounts?.[0] ?? {};
  const out = new Map<string, PipelineMetrics>();
  const of = (id: string) => {
    let m = out.get(id);
    if (!m) {
      m = { pipelineId: id, recordsIn: 0, recordsWritten: 0, filesWritten: 0, dropped: {}, droppedTotal: 0 };
      out.set(id, m);
    }
    return m;
  };
  for (const g of account.pipelinesOperatorAdaptiveGroups ?? []) {
    if (g.dimensions?.pipelineId) of(g.dimensions.pipelineId).recordsIn += g.sum?.recordsIn ?? 0;
  }
  for (const g of account.pipelinesSinkAdaptiveGroups ?? []) {
    if (!g.dimensions?.pipelineId) continue;
    const m = of(g.dimensions.pipelineId);
    m.recordsWritten += g.sum?.recordsWritten ?? 0;
    m.filesWritten += g.sum?.filesWritten ?? 0;
  }
  for (const g of account.pipelinesUserErrorsAdaptiveGroups ?? []) {
    if (!g.dimensions?.pipelineId) continue;
    const m = of(g.dimensions.pipelineId);
    const reason = g.dimensions.errorType ?? g.dimensions.errorFamily ?? 'unknown';
    m.dropped[reason] = (m.dropped[reason] ?? 0) + (g.count ?? 0);
    m.droppedTotal += g.count ?? 0;
  }
  return out;
}
