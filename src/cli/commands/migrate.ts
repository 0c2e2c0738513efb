import type { Command } from 'commander';
import { migrate } from '../../outbox/migrate.js';
import type { CliContext } from '../context.js';

export function migrateCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('migrate')
    .description('Create or upgrade the outbox tables (safe to run twice, or from several processes at once)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = ctx();
      const r = await migrate(c.config.databaseUrl, { schema: c.config.schema });
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else
        process.stdout.write(
          `schema "${r.schema}": ${r.applied} migration(s) applied, ${r.total} in total\n`,
        );
    });
}
