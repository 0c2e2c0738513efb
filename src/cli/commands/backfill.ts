import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { type BackfillProgress, backfill } from '../../backfill/backfill.js';
import { defaultCatalog } from '../../domain/defaultCatalog.js';
import { LakehouseError } from '../../errors.js';
import { createOutbox } from '../../outbox/outbox.js';
import type { PartitionRef } from '../../outbox/rows.js';
import { createRelayTrigger } from '../../relay/trigger.js';
import { type CliContext, EXIT, positiveInt } from '../context.js';
import { projectConfig } from '../projectConfig.js';

interface BackfillCliOptions {
  sql: string;
  key?: string;
  batchSize: number;
  rejects?: string;
  dryRun?: boolean;
  json?: boolean;
  eventType?: string;
  wake: boolean;
}

function bar(p: BackfillProgress, startedAt: number): string {
  const done = p.total > 0 ? Math.min(1, p.read / p.total) : 1;
  const width = 30;
  const filled = Math.round(done * width);
  const secs = Math.max(0.001, (Date.now() - startedAt) / 1000);
  const rate = p.read / secs;
  const eta = rate > 0 ? Math.ceil((p.total - p.read) / rate) : 0;
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(done * 100).toFixed(1)}% ` +
    `${p.read}/${p.total} rows  ${Math.round(rate)} rows/s  ETA ${eta}s  ` +
    `written ${p.written}  duplicates ${p.duplicates}  rejected ${p.rejected}`
  );
}

export function backfillCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('backfill')
    .description(
      'Load history from production tables into the outbox through a SELECT (idempotent, resumable)',
    )
    .argument('<stream>', `lake stream of the catalog (default: ${defaultCatalog.names.join(', ')})`)
    .requiredOption('--sql <select>', "one SELECT whose columns are named like the stream's fields")
    .option(
      '--key <cols>',
      "columns identifying a source row (event_id = UUIDv5 of them); default the stream's id field",
    )
    .option('--batch-size <n>', 'rows per fetch and per transaction', positiveInt('--batch-size'), 1000)
    .option('--rejects <file>', 'write rows that fail validation to this file (NDJSON: row, key, error)')
    .option('--dry-run', 'validate only, write nothing')
    .option('--event-type <type>', 'event type of the backfilled events (default: the stream default)')
    .option('--no-wake', 'do not wake the relay after each batch (the sweep finds the events anyway)')
    .option('--json', 'print {"read","written","duplicates","rejected"} as JSON')
    .addHelpText(
      'after',
      '\nInterrupt with Ctrl-C (the current batch finishes); run the same command again to resume:\n' +
        'rows already in the outbox are skipped as duplicates.',
    )
    .action(async (stream: string, opts: BackfillCliOptions) => {
      const { catalog } = await projectConfig();
      if (!catalog.has(stream)) {
        throw new LakehouseError(
          'CONFIG',
          `unknown stream "${stream}"; known streams: ${catalog.names.join(', ')}`,
        );
      }
      const c = ctx();
      const rejects = opts.rejects ? createWriteStream(opts.rejects, { flags: 'w' }) : undefined;
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      // Created at the first commit: a run that fails before writing (a mistake in --sql)
      // never opens a Redis connection it would have to close half-initialized.
      let trigger: ReturnType<typeof createRelayTrigger> | undefined;
      const wakeRelay = async (partitions: PartitionRef[]) => {
        if (!opts.wake || opts.dryRun) return;
        trigger ??= createRelayTrigger({ redisUrl: c.config.redisUrl, schema: c.config.schema });
        await trigger.wake(partitions);
      };
      const tty = process.stderr.isTTY === true;
      const startedAt = Date.now();
      let lastLine = 0;
      try {
        const summary = await backfill({
          pool: c.pool,
          outbox: createOutbox({ schema: c.config.schema, catalog }),
          catalog,
          stream,
          sql: opts.sql,
          keys: opts.key
            ?.split(',')
            .map((k) => k.trim())
            .filter(Boolean),
          batchSize: opts.batchSize,
          dryRun: opts.dryRun,
          eventType: opts.eventType,
          signal: stop.signal,
          onReject: (r) => rejects?.write(`${JSON.stringify(r)}\n`),
          onCommit: wakeRelay,
          onProgress: (p) => {
            if (tty) process.stderr.write(`\r\x1b[K${bar(p, startedAt)}`);
            else if (Date.now() - lastLine > 2000 || p.read === p.total) {
              lastLine = Date.now();
              process.stderr.write(`${bar(p, startedAt)}\n`);
            }
          },
        });
        if (tty) process.stderr.write('\n');
        const out = {
          read: summary.read,
          written: summary.written,
          duplicates: summary.duplicates,
          rejected: summary.rejected,
        };
        if (opts.json)
          process.stdout.write(`${JSON.stringify({ ...out, interrupted: summary.interrupted })}\n`);
        else {
          process.stdout.write(
            `${opts.dryRun ? 'dry run: ' : ''}read ${out.read}, written ${out.written}, duplicates ${out.duplicates}, ` +
              `rejected ${out.rejected}${opts.rejects && out.rejected > 0 ? ` (see ${opts.rejects})` : ''}\n`,
          );
        }
        if (summary.interrupted) {
          process.stderr.write('lakehouse backfill: interrupted; run the same command again to resume\n');
          process.exitCode = 130;
        } else if (out.rejected > 0) process.exitCode = EXIT.failed;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await trigger?.close();
        if (rejects) await new Promise<void>((r) => rejects.end(() => r()));
      }
    });
}
