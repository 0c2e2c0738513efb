import type { Command } from 'commander';
import { createOutbox } from '../../outbox/outbox.js';
import { type CliContext, parseDuration } from '../context.js';
import { projectConfig } from '../projectConfig.js';

export function pruneCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('prune')
    .description(
      'Delete delivered events older than a cutoff; never an undelivered or parked one (safe while the relay runs)',
    )
    .option('--older-than <age>', 'age with a unit: 45s, 30m, 12h, 7d, 4w (a bare number is refused)', '7d')
    .option('--include-aggregates', 'also delete events of event-sourced aggregates (their source of truth)')
    .option('--json', 'print {"deleted":N}')
    .action(async (opts: { olderThan: string; includeAggregates?: boolean; json?: boolean }) => {
      const olderThanSeconds = parseDuration(opts.olderThan, '--older-than');
      const c = ctx();
      const { catalog } = await projectConfig();
      const deleted = await createOutbox({ schema: c.config.schema, catalog }).prune(c.pool, {
        olderThanSeconds,
        includeAggregates: opts.includeAggregates ?? false,
      });
      if (opts.json) process.stdout.write(`${JSON.stringify({ deleted })}\n`);
      else process.stdout.write(`deleted ${deleted} delivered event(s) older than ${opts.olderThan}\n`);
    });
}
