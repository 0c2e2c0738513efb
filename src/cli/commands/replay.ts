import type { Command } from 'commander';
import { discardBlocked, replay } from '../../relay/replay.js';
import { createRelayTrigger } from '../../relay/trigger.js';
import { type CliContext, EXIT } from '../context.js';

interface ReplayCliOptions {
  stream?: string;
  partition?: string;
  all?: boolean;
  json?: boolean;
}

export function replayCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('replay')
    .description(
      'Re-queue parked events and failed batches (in their original order) and clear poison blocks',
    )
    .option('--stream <stream>', 'only this stream')
    .option('--partition <key>', 'only this partition key (e.g. a tenant id)')
    .option('--all', 'everything parked or failed')
    .option('--json', 'print {"requeued":[...],"resumed":[...]}')
    .action(async (opts: ReplayCliOptions) => {
      if (!opts.all && !opts.stream && !opts.partition) {
        process.stderr.write('lakehouse replay: say what to replay: --stream S, --partition P, or --all\n');
        process.exitCode = EXIT.usage;
        return;
      }
      const c = ctx();
      const client = await c.pool.connect();
      let result: Awaited<ReturnType<typeof replay>>;
      try {
        result = await replay(client, c.config.schema, { stream: opts.stream, partitionKey: opts.partition });
      } finally {
        client.release();
      }
      const trigger = createRelayTrigger({ redisUrl: c.config.redisUrl, schema: c.config.schema });
      const touched = [...result.requeued, ...result.resumed];
      await trigger.wake(touched);
      await trigger.close();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const events = result.requeued.reduce((n, r) => n + r.events, 0);
      process.stdout.write(
        `re-queued ${events} parked event(s); resumed ${result.resumed.length} partition(s)\n`,
      );
      for (const r of result.requeued)
        process.stdout.write(`  ${r.stream}/${r.partitionKey}: ${r.events} event(s)\n`);
      for (const r of result.resumed) process.stdout.write(`  ${r.stream}/${r.partitionKey}: resumed\n`);
    });

  program
    .command('discard')
    .description('Drop the poison record a blocked partition stopped at (streams with onPoison "block")')
    .requiredOption('--stream <stream>', 'the stream')
    .requiredOption('--partition <key>', 'the blocked partition key')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { stream: string; partition: string; json?: boolean }) => {
      const c = ctx();
      const r = await discardBlocked(c.pool, c.config.schema, {
        stream: opts.stream,
        partitionKey: opts.partition,
      });
      if (opts.json) process.stdout.write(`${JSON.stringify({ discarded: r })}\n`);
      else if (r)
        process.stdout.write(`discarded the event at position ${r.position}; the partition flows again\n`);
      else {
        process.stderr.write(`lakehouse discard: ${opts.stream}/${opts.partition} is not blocked\n`);
        process.exitCode = EXIT.failed;
      }
    });
}
