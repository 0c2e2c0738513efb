import type { Command } from 'commander';
import { pipelinesOf } from '../../pipelines/catalogPipelines.js';
import { createCloudflareApi } from '../../pipelines/cloudflare/api.js';
import { cloudflareCredentials } from '../../pipelines/cloudflare/credentials.js';
import { cloudflareStatus, type PipelineStatus } from '../../pipelines/cloudflareStatus.js';
import { loadPipelines } from '../../pipelines/definePipeline.js';
import { DEFAULT_ROLL_INTERVAL } from '../../pipelines/plan.js';
import { relayDeliveredSince } from '../../pipelines/relayDelivered.js';
import { type CliContext, EXIT, parseDuration, positiveInt } from '../context.js';
import { projectConfig } from '../projectConfig.js';
import { formatTable } from '../table.js';

interface StatusCliOptions {
  since: number;
  json?: boolean;
  rollInterval: number;
  relay: boolean;
}

function row(p: PipelineStatus): unknown[] {
  const dropped = Object.entries(p.dropped)
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
  return [
    p.pipeline,
    p.status,
    p.recordsIn,
    p.recordsWritten,
    p.filesWritten,
    p.droppedTotal,
    dropped || '-',
    p.relayDelivered ?? 'n/a',
  ];
}

/** `lakehouse cloudflare status`: what Cloudflare did with what the relay delivered. */
/** The pipelines of the project's catalog (`lakehouse.config.ts`), validated (exit 2 naming the problem). */
async function catalogPipelines() {
  return loadPipelines(pipelinesOf((await projectConfig()).catalog));
}

export function cloudflareCommand(program: Command, ctx: () => CliContext): void {
  const cf = program.command('cloudflare').description('Watch the Cloudflare side of the lake');
  cf.command('status')
    .description(
      'Per pipeline: status and failure reason, records in, written by the sink, dropped by Cloudflare (by reason), next to what the relay delivered',
    )
    .option(
      '--since <duration>',
      'window, back from now (e.g. 30m, 1h, 1d)',
      (v) => parseDuration(v, '--since'),
      3600,
    )
    .option(
      '--roll-interval <seconds>',
      "the sinks' roll interval (a sink is stalled after two without a file)",
      positiveInt('--roll-interval'),
      DEFAULT_ROLL_INTERVAL,
    )
    .option('--no-relay', 'do not read the outbox for what the relay delivered')
    .option('--json', 'print {since, until, pipelines: [...], problems: [...]}')
    .addHelpText(
      'after',
      '\nExit 1 when records were dropped, a pipeline failed or a sink looks stalled.\n' +
        'Environment: CLOUDFLARE_API_TOKEN (Pipelines Read, Account Analytics Read), CLOUDFLARE_ACCOUNT_ID;\n' +
        "DATABASE_URL / LAKEHOUSE_DB_SCHEMA for the relay column. Cloudflare's metrics are sampled:\n" +
        'counts are estimates and lag by minutes.',
    )
    .action(async (opts: StatusCliOptions) => {
      const api = createCloudflareApi(cloudflareCredentials());
      const until = new Date();
      const since = new Date(until.getTime() - opts.since * 1000);
      let relayDelivered: Map<string, number> | undefined;
      let relayNote: string | undefined;
      if (opts.relay) {
        try {
          relayDelivered = await relayDeliveredSince(ctx().pool, ctx().config.schema, since);
        } catch (e) {
          relayNote = `relay column unavailable: ${(e as Error).message}`;
        }
      }
      const status = await cloudflareStatus(api, await catalogPipelines(), {
        since,
        until,
        rollIntervalSeconds: opts.rollInterval,
        ...(relayDelivered ? { relayDelivered } : {}),
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...status, ...(relayNote ? { note: relayNote } : {}) })}\n`);
      } else {
        process.stdout.write(`window ${status.since} .. ${status.until}\n`);
        process.stdout.write(
          formatTable(
            ['pipeline', 'status', 'in', 'written', 'files', 'dropped', 'by reason', 'relay delivered'],
            status.pipelines.map(row),
          ),
        );
        for (const p of status.pipelines) {
          if (p.failureReason) process.stdout.write(`${p.pipeline}: failure reason: ${p.failureReason}\n`);
        }
        if (relayNote) process.stdout.write(`(${relayNote})\n`);
        for (const problem of status.problems) process.stderr.write(`lakehouse: ${problem}\n`);
      }
      if (status.problems.length > 0) process.exitCode = EXIT.failed;
    });
}
