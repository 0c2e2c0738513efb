import type { CloudflareApi } from './cloudflare/api.js';
import { type DeployedPipeline, readDeployed } from './cloudflare/deployed.js';
import { readPipelineMetrics } from './cloudflare/metrics.js';
import type { PipelineDefinition } from './types.js';
import { versionOfName } from './versions.js';

/** One deployed pipeline version, as `lakehouse cloudflare status` shows it. */
export interface PipelineStatus {
  lakeStream: string;
  pipeline: string;
  version: number;
  /** Cloudflare's status (`running`, `failed`, ...), and why it failed when it did. */
  status: string;
  failureReason: string | null;
  recordsIn: number;
  recordsWritten: number;
  filesWritten: number;
  /** Dropped after a 200 (schema mismatch), by reason. */
  dropped: Record<string, number>;
  droppedTotal: number;
  /** Took records in but wrote no file during a window longer than two roll intervals. */
  stalled: boolean;
  /** What the relay delivered to this lake stream in the window (all versions), if known. */
  relayDelivered: number | null;
}

/** The whole report; `problems` is empty when nothing was dropped, failed or stalled. */
export interface CloudflareStatus {
  since: string;
  until: string;
  pipelines: PipelineStatus[];
  problems: string[];
}

/**
 * Reads the account's pipelines of the definitions (every version), each one's status and
 * failure reason (`GET /pipelines/v1/pipelines/{id}`), and the window's metrics, and lists
 * the problems: drops, failed pipelines, stalled sinks.
 */
export async function cloudflareStatus(
  api: CloudflareApi,
  defs: readonly PipelineDefinition[],
  window: { since: Date; until: Date; rollIntervalSeconds: number; relayDelivered?: Map<string, number> },
): Promise<CloudflareStatus> {
  const deployed = await readDeployed(api);
  const metrics = await readPipelineMetrics(api, window.since, window.until);
  const longEnough = window.until.getTime() - window.since.getTime() > 2 * window.rollIntervalSeconds * 1000;
  const rows: PipelineStatus[] = [];
  for (const def of defs) {
    for (const listed of deployed.pipelines) {
      const version = versionOfName(def, 'pipeline', listed.name);
      if (version === undefined) continue;
      const p = await api.call<DeployedPipeline>(
        'GET',
        `/pipelines/v1/pipelines/${encodeURIComponent(listed.id)}`,
      );
      const m = metrics.get(listed.id);
      rows.push({
        lakeStream: def.stream,
        pipeline: listed.name,
        version,
        status: p.status ?? 'unknown',
        failureReason: p.failure_reason ?? null,
        recordsIn: m?.recordsIn ?? 0,
        recordsWritten: m?.recordsWritten ?? 0,
        filesWritten: m?.filesWritten ?? 0,
        dropped: m?.dropped ?? {},
        droppedTotal: m?.droppedTotal ?? 0,
        stalled: longEnough && (m?.recordsIn ?? 0) > 0 && (m?.filesWritten ?? 0) === 0,
        relayDelivered: window.relayDelivered?.get(def.stream) ?? (window.relayDelivered ? 0 : null),
      });
    }
  }
  const problems: string[] = [];
  for (const r of rows) {
    if (r.droppedTotal > 0) {
      const why = Object.entries(r.dropped)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      problems.push(`${r.pipeline}: ${r.droppedTotal} records dropped by Cloudflare after a 200 (${why})`);
    }
    if (r.failureReason || /fail|error/i.test(r.status)) {
      problems.push(`${r.pipeline}: status ${r.status}${r.failureReason ? `: ${r.failureReason}` : ''}`);
    }
    if (r.stalled) {
      problems.push(
        `${r.pipeline}: took ${r.recordsIn} records in but its sink wrote no file (stalled sink?)`,
      );
    }
  }
  return { since: window.since.toISOString(), until: window.until.toISOString(), pipelines: rows, problems };
}
