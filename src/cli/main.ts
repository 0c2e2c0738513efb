import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CliContext, EXIT, reportError } from './context.js';
import { takeConfigOption } from './projectConfig.js';

type Ctx = () => CliContext;
type Register = (program: Command, ctx: Ctx) => Promise<void>;

/**
 * Each top-level command and how to load it. Only the module of the command being run is
 * imported (all of them for help): the relay does not load DuckDB, Express or bull-board,
 * which keeps its memory small and every command quick to start.
 */
const COMMANDS: [names: string[], register: Register][] = [
  [['migrate'], async (p, c) => (await import('./commands/migrate.js')).migrateCommand(p, c)],
  [
    ['emit'],
    async (p, c) =>
      (await import('./commands/emit.js')).emitCommand(p, c, (cc) => {
        let trigger: import('../relay/trigger.js').RelayTrigger | undefined;
        cc.onClose(async () => trigger?.close());
        return async (partitions) => {
          const { createRelayTrigger } = await import('../relay/trigger.js');
          trigger ??= createRelayTrigger({ redisUrl: cc.config.redisUrl, schema: cc.config.schema });
          await trigger.wake(partitions);
        };
      }),
  ],
  [['status'], async (p, c) => (await import('./commands/status.js')).statusCommand(p, c)],
  [['relay'], async (p, c) => (await import('./commands/relay.js')).relayCommand(p, c)],
  [['replay', 'discard'], async (p, c) => (await import('./commands/replay.js')).replayCommand(p, c)],
  [['prune'], async (p, c) => (await import('./commands/prune.js')).pruneCommand(p, c)],
  [['pipelines'], async (p, c) => (await import('./commands/pipelines.js')).pipelinesCommand(p, c)],
  [['catalog-config'], async (p) => (await import('./commands/catalogConfig.js')).catalogConfigCommand(p)],
  [['cloudflare'], async (p, c) => (await import('./commands/cloudflare.js')).cloudflareCommand(p, c)],
  [['serve'], async (p) => (await import('./commands/serve.js')).serveCommand(p)],
  [['query'], async (p) => (await import('./commands/query.js')).queryCommand(p)],
  [['report'], async (p) => (await import('./commands/report.js')).reportCommand(p)],
  [['reconcile'], async (p, c) => (await import('./commands/reconcile.js')).reconcileCommand(p, c)],
  [
    ['compact', 'expire-snapshots'],
    async (p) => (await import('./commands/maintenance.js')).maintenanceCommands(p),
  ],
  [['demo'], async (p, c) => (await import('./commands/demo.js')).demoCommand(p, c)],
  [['backfill'], async (p, c) => (await import('./commands/backfill.js')).backfillCommand(p, c)],
  [['doctor'], async (p, c) => (await import('./commands/doctor.js')).doctorCommand(p, c)],
  [['parked'], async (p, c) => (await import('./commands/parked.js')).parkedCommand(p, c)],
  [['schema'], async (p) => (await import('./commands/schema.js')).schemaCommand(p)],
  [['init'], async (p) => (await import('./commands/init.js')).initCommand(p)],
];

/** The version in package.json (two levels up from dist/cli or src/cli). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Builds the `lakehouse` program for `argv`. Commands get their resources from one lazily created context. */
export async function buildProgram(
  argv: string[],
): Promise<{ program: Command; close: () => Promise<void> }> {
  let context: CliContext | undefined;
  const ctx = () => {
    context ??= new CliContext();
    return context;
  };
  const program = new Command()
    .name('lakehouse')
    .description(
      'Business events from PostgreSQL to a data lakehouse: a transactional outbox, an ordered lossless ' +
        'relay to Cloudflare Pipelines, and a local Iceberg data platform.\n\n' +
        'Configuration: DATABASE_URL, REDIS_URL, LAKEHOUSE_DB_SCHEMA (see README).\n' +
        'Streams: lakehouse.config.ts (.mts, .js, .mjs) in this folder, or --config PATH (any command) /\n' +
        'LAKEHOUSE_CONFIG; the default catalog (six streams) without one. `lakehouse init` writes a starter.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    // `lakehouse --version` only before a command: `pipelines retire --version 2` is the command's.
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  const name = argv[2];
  const only = COMMANDS.filter(([names]) => name !== undefined && names.includes(name));
  for (const [, register] of only.length > 0 ? only : COMMANDS) await register(program, ctx);
  return { program, close: async () => context?.close() };
}

async function main(given: string[]): Promise<number> {
  let argv: string[];
  try {
    argv = takeConfigOption(given);
  } catch (e) {
    process.stderr.write(`lakehouse: ${(e as Error).message}\n`);
    return EXIT.usage;
  }
  const { program, close } = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof InvalidArgumentError) {
      // Thrown by a command's own argument checks (commander prints only its parse errors).
      process.stderr.write(`lakehouse: ${e.message}\n`);
      return EXIT.usage;
    }
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    return reportError(e);
  } finally {
    await close();
  }
}

const code = await main(process.argv);
process.exitCode = code;
// Everything is closed by now; if a library still holds a handle, do not hang the shell.
setTimeout(() => process.exit(code), 1000).unref();
