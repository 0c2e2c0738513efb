import { Command, CommanderError } from 'commander';
import { createRelayTrigger } from '../relay/trigger.js';
import { backfillCommand } from './commands/backfill.js';
import { demoCommand } from './commands/demo.js';
import { emitCommand } from './commands/emit.js';
import { maintenanceCommands } from './commands/maintenance.js';
import { migrateCommand } from './commands/migrate.js';
import { pipelinesCommand } from './commands/pipelines.js';
import { pruneCommand } from './commands/prune.js';
import { queryCommand } from './commands/query.js';
import { relayCommand } from './commands/relay.js';
import { replayCommand } from './commands/replay.js';
import { serveCommand } from './commands/serve.js';
import { statusCommand } from './commands/status.js';
import { CliContext, EXIT, reportError } from './context.js';

/** Builds the `lakehouse` program. Commands get their resources from one lazily created context. */
export function buildProgram(): { program: Command; close: () => Promise<void> } {
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
        'Configuration: DATABASE_URL, REDIS_URL, LAKEHOUSE_DB_SCHEMA (see README).',
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  migrateCommand(program, ctx);
  emitCommand(program, ctx, (c) => {
    const trigger = createRelayTrigger({ redisUrl: c.config.redisUrl, schema: c.config.schema });
    c.onClose(() => trigger.close());
    return async (partitions) => {
      await trigger.wake(partitions);
    };
  });
  statusCommand(program, ctx);
  relayCommand(program, ctx);
  replayCommand(program, ctx);
  pruneCommand(program, ctx);
  pipelinesCommand(program);
  serveCommand(program);
  queryCommand(program);
  maintenanceCommands(program);
  demoCommand(program, ctx);
  backfillCommand(program, ctx);
  return { program, close: async () => context?.close() };
}

async function main(argv: string[]): Promise<number> {
  const { program, close } = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
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
