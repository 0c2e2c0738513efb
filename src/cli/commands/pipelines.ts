import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ApplyStep, applyDeployment } from '../../pipelines/apply.js';
import { pipelinesOf } from '../../pipelines/catalogPipelines.js';
import { createCloudflareApi } from '../../pipelines/cloudflare/api.js';
import { cloudflareCredentials, requireEnv } from '../../pipelines/cloudflare/credentials.js';
import type { Change } from '../../pipelines/compare.js';
import { loadPipelines } from '../../pipelines/definePipeline.js';
import {
  BUCKET_ENV,
  buildPlan,
  CATALOG_TOKEN_ENV,
  DEFAULT_COMPACTION_TARGET_MB,
  DEFAULT_ROLL_INTERVAL,
  DEFAULT_SNAPSHOT_OLDER_THAN_DAYS,
  DEFAULT_SNAPSHOT_RETAIN_LAST,
  MIN_ROLL_INTERVAL,
  writePlanFiles,
} from '../../pipelines/plan.js';
import { type DeploymentOptions, planDeployment } from '../../pipelines/planDeployment.js';
import { retireVersion } from '../../pipelines/retire.js';
import { loadStreamRoutes } from '../../pipelines/streamRoutes.js';
import type { CliContext } from '../context.js';
import { EXIT, positiveInt } from '../context.js';
import { projectConfig } from '../projectConfig.js';

interface CommonOptions {
  out?: string;
  json?: boolean;
  rollInterval: number;
  newVersion: string[];
  rotateToken?: boolean;
  compactionTargetMb: number;
  snapshotOlderThanDays: number;
  snapshotRetainLast: number;
}

const ENV_HELP =
  '\nEnvironment: CLOUDFLARE_API_TOKEN (Pipelines Edit, Data Catalog Edit), CLOUDFLARE_ACCOUNT_ID,\n' +
  `${BUCKET_ENV} (R2 bucket with the Data Catalog enabled), ${CATALOG_TOKEN_ENV} (token the sinks write\n` +
  'the catalog with; read only when a sink is created), CLOUDFLARE_API_BASE_URL (default\n' +
  'https://api.cloudflare.com/client/v4). Talks to the REST API directly: wrangler is not needed.';

function rollIntervalOption(): Option {
  return new Option(
    '--roll-interval <seconds>',
    `seconds between files written by each sink (min ${MIN_ROLL_INTERVAL})`,
  )
    .argParser((value) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < MIN_ROLL_INTERVAL) {
        throw new InvalidArgumentError(
          `--roll-interval must be a whole number of seconds, at least ${MIN_ROLL_INTERVAL}`,
        );
      }
      return n;
    })
    .default(DEFAULT_ROLL_INTERVAL);
}

function addCommonOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print the result as JSON')
    .option('--out <dir>', 'also write <stream>.schema.json and <pipeline>.sql here, for review')
    .option(
      '--new-version <stream>',
      'deploy this drifted lake stream as a new version (orders -> orders_v2 stream, sink, table, pipeline); repeatable',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--rotate-token',
      `with --new-version: a new version even without drift, so its sink takes the current ${CATALOG_TOKEN_ENV}`,
    )
    .addOption(rollIntervalOption())
    .addOption(
      new Option('--compaction-target-mb <mb>', 'R2 Data Catalog compaction target file size')
        .choices(['64', '128', '256', '512'])
        .argParser(Number)
        .default(DEFAULT_COMPACTION_TARGET_MB),
    )
    .option(
      '--snapshot-older-than-days <n>',
      'expire snapshots older than this',
      positiveInt('--snapshot-older-than-days'),
      DEFAULT_SNAPSHOT_OLDER_THAN_DAYS,
    )
    .option(
      '--snapshot-retain-last <n>',
      'always keep this many snapshots',
      positiveInt('--snapshot-retain-last'),
      DEFAULT_SNAPSHOT_RETAIN_LAST,
    );
}

async function deployment(opts: CommonOptions) {
  const creds = cloudflareCredentials();
  const bucket = requireEnv(process.env, BUCKET_ENV, 'to plan the sinks and the catalog tables');
  const api = createCloudflareApi(creds);
  const defs = await catalogPipelines();
  const options: DeploymentOptions = {
    bucket,
    newVersion: opts.newVersion,
    rotateToken: opts.rotateToken === true,
    rollIntervalSeconds: opts.rollInterval,
    compactionTargetMb: opts.compactionTargetMb,
    snapshotOlderThanDays: opts.snapshotOlderThanDays,
    snapshotRetainLast: opts.snapshotRetainLast,
    ...(opts.out ? { outDir: opts.out } : {}),
  };
  const d = await planDeployment(api, defs, options);
  if (opts.out) writePlanFiles(d.plans);
  return { api, creds, bucket, d };
}

function changeLine(c: Change): string {
  const head = `${c.action.padEnd(12)} ${c.kind.padEnd(11)} ${c.name}${c.version > 1 ? ` (v${c.version})` : ''}`;
  return [head, ...(c.differences ?? []).map((d) => `    ${d}`)].join('\n');
}

function stepLine(s: ApplyStep): string {
  return `${s.status.padEnd(12)} ${s.kind.padEnd(11)} ${s.name}${s.error ? `: ${s.error}` : ''}\n`;
}

/** `lakehouse pipelines plan|apply|retire`: Cloudflare provisioning from the definitions. */
/** The pipelines of the project's catalog (`lakehouse.config.ts`), validated (exit 2 naming the problem). */
async function catalogPipelines() {
  return loadPipelines(pipelinesOf((await projectConfig()).catalog));
}

export function pipelinesCommand(program: Command, ctx: () => CliContext): void {
  const pipelines = program
    .command('pipelines')
    .description(
      'Provision the Cloudflare (Basin) Pipelines streams, sinks, pipelines and tables of the catalog streams',
    );

  addCommonOptions(
    pipelines
      .command('plan')
      .description('Compare the definitions with the account: per resource create, exists or drift')
      .option('--offline', 'do not read the account: print the resources the definitions describe'),
  )
    .addHelpText(
      'after',
      '\nThe definitions are validated first (names, transform SQL, partition columns).\n' +
        'drift: the deployed stream schema, sink target or pipeline SQL differs; "apply" refuses it.\n' +
        'update: table maintenance settings differ (apply changes them in place).\n' +
        'pending: the table does not exist yet (the sink creates it at its first roll).' +
        ENV_HELP,
    )
    .action(async (opts: CommonOptions & { offline?: boolean }) => {
      if (opts.offline) {
        const plans = buildPlan(await catalogPipelines(), {
          rollIntervalSeconds: opts.rollInterval,
          compactionTargetMb: opts.compactionTargetMb,
          snapshotOlderThanDays: opts.snapshotOlderThanDays,
          snapshotRetainLast: opts.snapshotRetainLast,
          ...(opts.out ? { outDir: opts.out } : {}),
        });
        if (opts.out) writePlanFiles(plans);
        process.stdout.write(`${JSON.stringify({ pipelines: plans }, null, opts.json ? undefined : 2)}\n`);
        return;
      }
      const { d } = await deployment(opts);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ changes: d.changes, pipelines: d.plans })}\n`);
        return;
      }
      for (const c of d.changes) process.stdout.write(`${changeLine(c)}\n`);
      for (const x of d.plans.filter((p) => p.filter)) {
        process.stdout.write(
          `# ${x.pipeline} FILTER: records not matching \`${x.filter}\` are dropped, never reach the table\n`,
        );
      }
      if (d.changes.some((c) => c.action === 'drift')) {
        process.stdout.write(
          '(drift: Cloudflare cannot alter these; "apply --new-version <stream>" deploys a new version)\n',
        );
      }
    });

  addCommonOptions(
    pipelines
      .command('apply')
      .description(
        'Create the streams, sinks and pipelines that are missing and set table maintenance (idempotent)',
      )
      .option('--yes', 'change the account; without it, only print what would be done'),
  )
    .addHelpText(
      'after',
      '\nExisting resources are left alone; a drifted one (schema, sink target or SQL differs) makes\n' +
        'apply refuse, naming the fields, without changing anything. A failed list is an error.' +
        ENV_HELP,
    )
    .action(async (opts: CommonOptions & { yes?: boolean }) => {
      const { api, creds, bucket, d } = await deployment(opts);
      const steps = await applyDeployment(api, d, {
        yes: opts.yes === true,
        bucket,
        sinkValues: () => ({
          accountId: creds.accountId,
          bucket,
          token: requireEnv(process.env, CATALOG_TOKEN_ENV, 'to create a sink'),
        }),
        onStep: (s) => {
          if (!opts.json) process.stdout.write(stepLine(s));
        },
      });
      if (opts.json) process.stdout.write(`${JSON.stringify({ dryRun: !opts.yes, steps })}\n`);
      else if (!opts.yes && steps.some((s) => s.status.startsWith('would'))) {
        process.stdout.write('(dry run: add --yes to apply)\n');
      }
      if (steps.some((s) => s.status === 'failed' || s.status === 'skipped')) process.exitCode = EXIT.failed;
    });

  pipelines
    .command('endpoints')
    .description(
      "Print each stream's ingest URL and id (newest deployed version) as LAKEHOUSE_SINK_URL_<STREAM> exports",
    )
    .option('--json', 'print {"streams":[{stream, version, name, id, url}]}')
    .action(async (opts: { json?: boolean }) => {
      const routes = await loadStreamRoutes(
        createCloudflareApi(cloudflareCredentials()),
        await catalogPipelines(),
      );
      const rows = Object.entries(routes).flatMap(([stream, list]) => {
        const r = list[0];
        return r ? [{ stream, version: r.version, name: r.name, id: r.id, url: r.url }] : [];
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ streams: rows })}\n`);
        return;
      }
      for (const r of rows) {
        process.stdout.write(
          `export LAKEHOUSE_SINK_URL_${r.stream.toUpperCase()}=${r.url}   # ${r.name}, id ${r.id}\n`,
        );
      }
      const missing = Object.keys(routes).filter((s) => routes[s]?.length === 0);
      if (missing.length > 0) process.stderr.write(`lakehouse: not deployed: ${missing.join(', ')}\n`);
    });

  pipelines
    .command('retire')
    .description('Delete a drained old version of a stream (its pipeline, sink and stream; the table stays)')
    .argument('<stream>', 'lake stream, e.g. orders')
    .requiredOption(
      '--version <n>',
      'the version to retire (1 is the unsuffixed one)',
      positiveInt('--version'),
    )
    .option('--yes', 'delete for real; without it, only run the checks')
    .option(
      '--accept-buffer-loss',
      'delete even if Cloudflare may still buffer records the sink has not written',
    )
    .option('--json', 'print {stream, version, refusals, resources}')
    .addHelpText(
      'after',
      '\nRefuses while the version is the newest, while undelivered outbox events still route to it,\n' +
        "and while its stream took records its sink has not written (Cloudflare's metrics, last 24 h):\n" +
        "deleting a stream drops its buffered records. Reports and reconcile read every version's table." +
        ENV_HELP,
    )
    .action(
      async (
        stream: string,
        opts: { version: number; yes?: boolean; acceptBufferLoss?: boolean; json?: boolean },
      ) => {
        const def = (await catalogPipelines()).find((d) => d.stream === stream);
        if (!def) throw new InvalidArgumentError(`no pipeline reads a stream named "${stream}"`);
        const api = createCloudflareApi(cloudflareCredentials());
        const c = ctx();
        const r = await retireVersion(api, def, opts.version, {
          yes: opts.yes === true,
          db: c.pool,
          schema: c.config.schema,
          acceptBufferLoss: opts.acceptBufferLoss === true,
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else {
          for (const x of r.resources) {
            const what = x.deleted ? 'deleted' : r.refusals.length > 0 ? 'kept' : 'would delete';
            process.stdout.write(`${what.padEnd(12)} ${x.kind.padEnd(8)} ${x.name}\n`);
          }
          for (const why of r.refusals) process.stderr.write(`lakehouse: refused: ${why}\n`);
          if (r.refusals.length === 0 && !opts.yes) process.stdout.write('(dry run: add --yes to delete)\n');
        }
        if (r.refusals.length > 0) process.exitCode = EXIT.failed;
      },
    );
}
