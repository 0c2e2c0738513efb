import type pg from 'pg';
import { LakehouseError } from '../errors.js';
import type { CloudflareApi } from './cloudflare/api.js';
import { readDeployed } from './cloudflare/deployed.js';
import { readPipelineMetrics } from './cloudflare/metrics.js';
import { deployedVersions } from './compare.js';
import { routesFromStreams } from './streamRoutes.js';
import type { PipelineDefinition } from './types.js';
import { countUndeliveredForVersion } from './undeliveredRoutes.js';
import { versionNames } from './versions.js';

/** Options of {@link retireVersion}. */
export interface RetireOptions {
  /** Delete for real; without it only the checks run. */
  yes?: boolean;
  /** The outbox, to find undelivered events still bound for the version. */
  db: Pick<pg.Pool, 'query'>;
  schema: string;
  /**
   * Delete even when Cloudflare's metrics say the version's stream holds records its sink
   * has not written yet, or cannot be read: those records are lost. Default false.
   */
  acceptBufferLoss?: boolean;
  /** Window of the buffer check. Default 24 h. */
  windowSeconds?: number;
}

/** What `retire` found and did. */
export interface RetireResult {
  stream: string;
  version: number;
  /** Why it refused; empty when it could go ahead. */
  refusals: string[];
  /** Resources deleted (or that would be, in a dry run), in deletion order. The table stays. */
  resources: { kind: 'pipeline' | 'sink' | 'stream'; name: string; deleted: boolean }[];
}

/**
 * Retires version `version` of a lake stream once it is drained: refuses while it is the
 * newest version, while undelivered outbox events still route to it, and while its stream
 * took records its sink has not written (deleting a stream drops its buffered records).
 * Then deletes its pipeline, sink and stream; the Iceberg table is kept.
 */
export async function retireVersion(
  api: CloudflareApi,
  def: PipelineDefinition,
  version: number,
  options: RetireOptions,
): Promise<RetireResult> {
  const deployed = await readDeployed(api);
  const versions = deployedVersions(def, deployed);
  if (!versions.includes(version)) {
    throw new LakehouseError(
      'CONFIG',
      `stream ${def.stream} has no deployed version ${version} (deployed: ${versions.join(', ') || 'none'})`,
    );
  }
  const names = versionNames(def, version);
  const refusals: string[] = [];
  const newest = Math.max(...versions);
  if (version === newest) {
    refusals.push(`version ${version} is the newest version of ${def.stream}: the relay sends to it`);
  }
  const routes = routesFromStreams(deployed.streams, [def])[def.stream] ?? [];
  const pending = await countUndeliveredForVersion(options.db, options.schema, def.stream, routes, version);
  if (pending > 0) {
    refusals.push(
      `${pending} undelivered events of ${def.stream} still route to version ${version} (pending or parked): ` +
        'let the relay drain them ("lakehouse status"), or replay/discard the parked ones',
    );
  }
  const pipeline = deployed.pipelines.find((p) => p.name === names.pipeline);
  if (pipeline) {
    const until = new Date();
    const since = new Date(until.getTime() - (options.windowSeconds ?? 86_400) * 1000);
    try {
      const m = (await readPipelineMetrics(api, since, until)).get(pipeline.id);
      const unwritten = (m?.recordsIn ?? 0) - (m?.recordsWritten ?? 0) - (m?.droppedTotal ?? 0);
      if (unwritten > 0 && !options.acceptBufferLoss) {
        refusals.push(
          `${names.pipeline} took ${unwritten} more records than its sink wrote or dropped in the window: ` +
            'wait for the sink to roll (or pass --accept-buffer-loss to lose them)',
        );
      }
    } catch (e) {
      if (!options.acceptBufferLoss) {
        refusals.push(
          `cannot read the metrics that show whether ${names.stream} still buffers records ` +
            `(${(e as Error).message}); pass --accept-buffer-loss to delete anyway`,
        );
      }
    }
  }
  const targets = [
    { kind: 'pipeline' as const, item: pipeline, path: '/pipelines/v1/pipelines' },
    {
      kind: 'sink' as const,
      item: deployed.sinks.find((s) => s.name === names.sink),
      path: '/pipelines/v1/sinks',
    },
    {
      kind: 'stream' as const,
      item: deployed.streams.find((s) => s.name === names.stream),
      path: '/pipelines/v1/streams',
    },
  ].filter((t) => t.item);
  const resources: RetireResult['resources'] = [];
  for (const t of targets) {
    const doIt = options.yes === true && refusals.length === 0;
    if (doIt) await api.call('DELETE', `${t.path}/${encodeURIComponent(t.item!.id)}`);
    resources.push({ kind: t.kind, name: t.item!.name, deleted: doIt });
  }
  return { stream: def.stream, version, refusals, resources };
}
