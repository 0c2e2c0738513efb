import { type Command, InvalidArgumentError } from 'commander';
import { LakehouseError } from '../../errors.js';
import { toExecutor } from '../../outbox/executor.js';
import { listParked, showParked } from '../../outbox/listParked.js';
import { type CliContext, positiveInt } from '../context.js';
import { formatTable } from '../table.js';

interface ParkedCliOptions {
  stream?: string;
  partition?: string;
  limit: number;
  json?: boolean;
}

/** `90s`, `12m`, `5h`, `3d`: an age an operator reads at a glance. */
function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

const oneLine = (text: string | null, max = 100) => {
  const t = (text ?? '').replace(/\s+/g, ' ');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

export function parkedCommand(program: Command, ctx: () => CliContext): void {
  const parked = program
    .command('parked')
    .description('List parked events and failed or blocked partitions, with their error and age')
    .option('--stream <stream>', 'only this stream')
    .option('--partition <key>', 'only this partition key (e.g. a tenant id)')
    .option('--limit <n>', 'at most this many parked events, oldest first', positiveInt('--limit'), 100)
    .option('--json', 'print {"parked":[...],"failed":[...],"totalParked":N}')
    .addHelpText(
      'after',
      '\nThen: `lakehouse parked show <position>` prints one record; `lakehouse replay` re-queues them.',
    )
    .action(async (opts: ParkedCliOptions) => {
      const c = ctx();
      const r = await listParked(toExecutor(c.pool), c.config.schema, opts);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        return;
      }
      process.stdout.write(
        `parked events: ${r.totalParked}${r.totalParked > r.parked.length ? ` (showing ${r.parked.length})` : ''}\n`,
      );
      if (r.parked.length > 0)
        process.stdout.write(
          formatTable(
            ['position', 'stream', 'partition', 'reason', 'age', 'error'],
            r.parked.map((p) => [
              p.position,
              p.stream,
              p.partition,
              p.reason,
              age(p.ageSeconds),
              oneLine(p.error),
            ]),
          ),
        );
      process.stdout.write(`\nfailed or blocked partitions: ${r.failed.length}\n`);
      if (r.failed.length > 0)
        process.stdout.write(
          formatTable(
            ['stream', 'partition', 'state', 'held', 'batches', 'age', 'next retry', 'error'],
            r.failed.map((f) => [
              f.stream,
              f.partition,
              f.state === 'blocked' ? `blocked at ${f.blockedPosition}` : 'failed',
              f.held,
              f.batches,
              age(f.ageSeconds),
              f.nextRetryAt ?? '-',
              oneLine(f.error),
            ]),
          ),
        );
    });
  parked
    .command('show')
    .description('Print one parked event: why it was parked and its whole outbox record (JSON)')
    .argument('<position>', 'position of the parked event (first column of `lakehouse parked`)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0)
        throw new InvalidArgumentError(`position must be a positive integer, got "${v}"`);
      return n;
    })
    .action(async (position: number) => {
      const c = ctx();
      const r = await showParked(toExecutor(c.pool), c.config.schema, position);
      if (!r)
        throw new LakehouseError(
          'NOT_FOUND',
          `no parked event at position ${position} (see \`lakehouse parked\`)`,
        );
      process.stdout.write(`${JSON.stringify({ ...r.parked, record: r.record }, null, 2)}\n`);
    });
}
