import type { Command } from 'commander';
import { migrate } from '../../outbox/migrate.js';
import { type CliContext, positiveInt } from '../context.js';
import { projectConfig } from '../projectConfig.js';

export function migrateCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('migrate')
    .description('Create or upgrade the outbox tables (safe to run twice, or from several processes at once)')
    .option('--json', 'print the result as JSON')
    .option(
      '--lanes <n>',
      'lanes per stream (default 64 for a new outbox; a change is refused while events are pending)',
      positiveInt('--lanes'),
    )
    .action(async (opts: { json?: boolean; lanes?: number }) => {
      const c = ctx();
      // The outbox tables serve any catalog; a config that does not load fails here, before anything runs.
      await projectConfig();
      const r = await migrate(c.config.databaseUrl, { schema: c.config.schema, lanes: opts.lanes });
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else
        process.stdout.write(
          `schema "${r.schema}": ${r.applied} migration(s) applied, ${r.total} in total, ${r.lanes} lanes per stream\n`,
        );
    });
}
