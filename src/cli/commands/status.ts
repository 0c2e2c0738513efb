import type { Command } from 'commander';
import { toExecutor } from '../../outbox/executor.js';
import { lastParkedErrors } from '../../outbox/listParked.js';
import { createOutbox } from '../../outbox/outbox.js';
import type { StreamStatus } from '../../outbox/status.js';
import type { CliContext } from '../context.js';
import { projectConfig } from '../projectConfig.js';
import { formatTable } from '../table.js';

export function statusCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('status')
    .description('Show delivery state per stream: pending, in flight, delivered, parked, failed, lag')
    .option('--json', 'print {"streams":[...]} as JSON')
    .action(async (opts: { json?: boolean }) => {
      const c = ctx();
      const { catalog } = await projectConfig();
      const status = await createOutbox({ schema: c.config.schema, catalog }).status(c.pool);
      // No partition failing now, but parked events: their latest error is the one to see.
      if (status.streams.some((s) => !s.lastError && s.parked > 0)) {
        const parkedErrors = await lastParkedErrors(toExecutor(c.pool), c.config.schema);
        for (const s of status.streams)
          if (!s.lastError && s.parked > 0) s.lastError = parkedErrors.get(s.stream) ?? null;
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(status)}\n`);
        return;
      }
      const cols: (keyof StreamStatus)[] = [
        'stream',
        'pending',
        'inFlight',
        'delivered',
        'parked',
        'failedBatches',
        'blockedPartitions',
        'oldestPendingAgeSeconds',
        'throughputPerSecond',
        'duplicatesResent',
      ];
      const headers = [
        'stream',
        'pending',
        'in flight',
        'delivered',
        'parked',
        'failed',
        'blocked',
        'lag (s)',
        'ev/s',
        'resent',
      ];
      process.stdout.write(
        formatTable(
          headers,
          status.streams.map((s) => cols.map((k) => s[k])),
        ),
      );
      for (const s of status.streams) {
        if (s.lastError) process.stdout.write(`${s.stream}: last error: ${s.lastError}\n`);
      }
    });
}
