import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type ApplyStep, applyPlan } from '../../pipelines/apply.js';
import { loadPipelines } from '../../pipelines/definePipeline.js';
import {
  BUCKET_ENV,
  buildPlan,
  CATALOG_TOKEN_ENV,
  DEFAULT_ROLL_INTERVAL,
  MIN_ROLL_INTERVAL,
  type PipelinePlan,
  writePlanFiles,
} from '../../pipelines/plan.js';
import { EXIT } from '../context.js';

interface PlanCliOptions {
  out: string;
  json?: boolean;
  rollInterval: number;
}

interface ApplyCliOptions {
  out?: string;
  yes?: boolean;
  json?: boolean;
  rollInterval: number;
}

const ENV_HELP =
  `\nEnvironment: ${BUCKET_ENV} (R2 bucket of the sinks), ${CATALOG_TOKEN_ENV} (R2 Data Catalog\n` +
  'token), and for wrangler CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID. Printed commands keep\n' +
  'these as $VAR placeholders; secrets are never printed.';

async function plan(outDir: string, rollIntervalSeconds: number): Promise<PipelinePlan[]> {
  const defs = await loadPipelines();
  return buildPlan(defs, { outDir, rollIntervalSeconds });
}

function printPlan(p: readonly PipelinePlan[]): void {
  const out: string[] = [];
  for (const x of p) {
    out.push(
      `# ${x.pipeline}: stream ${x.stream} -> sink ${x.sink} -> table ${x.namespace}.${x.table} ` +
        `(partition: ${x.partition.join(', ')})`,
      ...(x.filter
        ? [`#   FILTER: records not matching \`${x.filter}\` are dropped, never reach the table`]
        : []),
      x.commands.stream.text,
      x.commands.sink.text,
      x.commands.pipeline.text,
      '',
    );
  }
  process.stdout.write(`${out.join('\n')}`);
}

/** `--roll-interval`, shared by plan and apply. */
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

/** `lakehouse pipelines plan|apply`: Cloudflare Pipelines provisioning from the definitions. */
export function pipelinesCommand(program: Command): void {
  const pipelines = program
    .command('pipelines')
    .description('Provision the Cloudflare Pipelines (streams, sinks, pipelines) of the six lake streams');

  pipelines
    .command('plan')
    .description('Write each stream schema and pipeline SQL file and print the wrangler commands')
    .option('--out <dir>', 'directory for <stream>.schema.json and <pipeline>.sql', 'cloudflare-pipelines')
    .option('--json', 'print the plan (files, commands) as JSON')
    .addOption(rollIntervalOption())
    .addHelpText(
      'after',
      '\nThe definitions are validated first (names, transform SQL, partition columns).\n' +
        'Run the printed commands in order, or use "lakehouse pipelines apply".' +
        ENV_HELP,
    )
    .action(async (opts: PlanCliOptions) => {
      const p = await plan(opts.out, opts.rollInterval);
      writePlanFiles(p);
      if (opts.json) process.stdout.write(`${JSON.stringify({ pipelines: p })}\n`);
      else printPlan(p);
    });

  pipelines
    .command('apply')
    .description('Create the streams, sinks and pipelines that do not exist yet (idempotent)')
    .option('--yes', 'create for real; without it, only print what would be created')
    .option('--json', 'print {"dryRun":bool,"steps":[{kind,name,status,command,error?}]}')
    .option('--out <dir>', 'keep the schema and SQL files here (default: a temporary directory)')
    .addOption(rollIntervalOption())
    .addHelpText(
      'after',
      '\nUses `wrangler` from PATH, else `npx wrangler`. Lists existing streams, sinks and pipelines\n' +
        'first and leaves them alone ("exists"): Cloudflare cannot alter them; delete one to recreate it.' +
        ENV_HELP,
    )
    .action(async (opts: ApplyCliOptions) => {
      const dir = opts.out ?? mkdtempSync(join(tmpdir(), 'lakehouse-pipelines-'));
      try {
        const p = await plan(dir, opts.rollInterval);
        const print = (s: ApplyStep) => {
          if (opts.json) return;
          const line = `${s.status.padEnd(12)} ${s.kind.padEnd(8)} ${s.name}`;
          const detail = s.status === 'would create' ? `\n    ${s.command}` : s.error ? `: ${s.error}` : '';
          process.stdout.write(`${line}${detail}\n`);
        };
        const steps = await applyPlan(p, { yes: opts.yes === true, onStep: print });
        if (opts.json) process.stdout.write(`${JSON.stringify({ dryRun: !opts.yes, steps })}\n`);
        else if (!opts.yes && steps.some((s) => s.status === 'would create')) {
          process.stdout.write('(dry run: add --yes to create)\n');
        }
        if (steps.some((s) => s.status === 'failed' || s.status === 'skipped'))
          process.exitCode = EXIT.failed;
      } finally {
        if (!opts.out) rmSync(dir, { recursive: true, force: true });
      }
    });
}
