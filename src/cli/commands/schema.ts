import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type ResolvedConfig } from '../../config/loadConfig.js';
import { diffSchemas, type SchemaChange } from '../../domain/diffSchemas.js';
import { parseSnapshot, type SchemaSnapshot, snapshotOf } from '../../domain/schemaSnapshot.js';
import { LakehouseError } from '../../errors.js';
import { EXIT } from '../context.js';

interface SchemaOpts {
  config?: string;
  snapshot?: string;
  json?: boolean;
  allowBreaking?: boolean;
}

const shown = (file: string) => relative(process.cwd(), file) || file;

async function setup(
  opts: SchemaOpts,
): Promise<{ config: ResolvedConfig; file: string; current: SchemaSnapshot }> {
  const config = await loadConfig({ path: opts.config });
  const file = opts.snapshot ? resolve(opts.snapshot) : config.snapshotPath;
  return { config, file, current: snapshotOf(config.catalog) };
}

function readDeployed(file: string): SchemaSnapshot | undefined {
  return existsSync(file) ? parseSnapshot(readFileSync(file, 'utf8'), shown(file)) : undefined;
}

function printChanges(changes: SchemaChange[]): void {
  for (const c of changes) {
    const tag = c.severity === 'breaking' ? 'BREAKING' : 'ok      ';
    process.stdout.write(`  ${tag}  ${c.stream}: ${c.message}\n`);
    if (c.alternative) process.stdout.write(`            instead: ${c.alternative}\n`);
  }
}

function summary(changes: SchemaChange[]) {
  const breaking = changes.filter((c) => c.severity === 'breaking').length;
  return { ok: breaking === 0, additive: changes.length - breaking, breaking, changes };
}

async function check(opts: SchemaOpts): Promise<void> {
  const { config, file, current } = await setup(opts);
  const deployed = readDeployed(file);
  if (!deployed) {
    throw new LakehouseError(
      'CONFIG',
      `no schema snapshot at ${shown(file)}: record what is deployed with \`lakehouse schema snapshot\` and commit it`,
    );
  }
  const result = summary(diffSchemas(deployed, current));
  process.exitCode = result.ok ? EXIT.ok : EXIT.failed;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ snapshot: file, config: config.file ?? null, ...result })}\n`);
    return;
  }
  process.stdout.write(
    `schema check: ${config.file ? shown(config.file) : 'default catalog'} against ${shown(file)}\n`,
  );
  printChanges(result.changes);
  const verdict = result.ok ? 'allowed' : 'refused (see README, "Define your own streams": breaking changes)';
  process.stdout.write(`${result.additive} additive, ${result.breaking} breaking change(s): ${verdict}\n`);
}

/** Writes through a temporary file and a rename: a crash leaves the old snapshot or the new one, never half a file. */
function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

async function snapshot(opts: SchemaOpts): Promise<void> {
  const { file, current } = await setup(opts);
  const deployed = readDeployed(file);
  const result = summary(deployed ? diffSchemas(deployed, current) : []);
  if (!result.ok && !opts.allowBreaking) {
    process.exitCode = EXIT.failed;
    if (opts.json) process.stdout.write(`${JSON.stringify({ written: false, snapshot: file, ...result })}\n`);
    else {
      process.stdout.write(
        `schema snapshot: not written, the catalog has breaking changes against ${shown(file)}:\n`,
      );
      printChanges(result.changes);
      process.stdout.write(
        'Once readers and the outbox are ready for them, write it with --allow-breaking.\n',
      );
    }
    return;
  }
  writeAtomically(file, `${JSON.stringify(current, null, 2)}\n`);
  const streams = Object.keys(current.streams).length;
  if (opts.json)
    process.stdout.write(`${JSON.stringify({ written: true, snapshot: file, streams, ...result })}\n`);
  else
    process.stdout.write(
      `wrote ${shown(file)}: ${streams} stream(s), ${result.changes.length} change(s); commit it\n`,
    );
}

/** The options both subcommands take: where the config and the snapshot are. */
function withFiles(cmd: Command): Command {
  return cmd
    .option(
      '--config <path>',
      'config file (default: LAKEHOUSE_CONFIG, else lakehouse.config.ts|.mts|.js|.mjs here)',
    )
    .option(
      '--snapshot <path>',
      "snapshot file (default: the config's schemaSnapshot, lakehouse/schema.snapshot.json)",
    );
}

/** `lakehouse schema check|snapshot`: compare the catalog with the deployed snapshot, or record it. */
export function schemaCommand(program: Command): void {
  const schema = program
    .command('schema')
    .description('Schema evolution: compare the stream catalog with the committed snapshot, or record it');
  withFiles(schema.command('check'))
    .description('Classify each change since the snapshot: additive (allowed) or breaking (refused, exit 1)')
    .option('--json', 'print {"ok","additive","breaking","changes":[...]} as JSON')
    .action(check);
  withFiles(schema.command('snapshot'))
    .description(
      'Record the catalog as deployed (a JSON file to commit); refuses breaking changes unless --allow-breaking',
    )
    .option(
      '--allow-breaking',
      'write even when the catalog has breaking changes against the current snapshot',
    )
    .option('--json', 'print {"written","snapshot","streams","changes":[...]} as JSON')
    .action(snapshot);
}
