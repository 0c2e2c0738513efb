import { Command, CommanderError } from 'commander';
import { emitCommand } from './commands/emit.js';
import { maintenanceCommands } from './commands/maintenance.js';
import { migrateCommand } from './commands/migrate.js';
import { queryCommand } from './commands/query.js';
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
      'Business events from PostgreSQL to a data lakehouse: transactional outbox, ordered lossless relay\n' +
        'to Cloudflare Pipelines, and a local Iceberg data platform.\n\n' +
        'Configuration: DATABASE_URL, REDIS_URL, LAKEHOUSE_DB_SCHEMA (see README).',
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  migrateCommand(program, ctx);
  emitCommand(program, ctx, () => async () => {});
  statusCommand(program, ctx);
  serveCommand(program);
  queryCommand(program);
  maintenanceCommands(program);
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

process.exitCode = await main(process.argv);
