import type { Command } from 'commander';
import { LakehouseError } from '../../errors.js';
import { compact } from '../../lakehouse/compact.js';
import { expireSnapshots } from '../../lakehouse/expireSnapshots.js';
import { resolveWarehouse } from '../../lakehouse/options.js';
import { allTables } from '../../lakehouse/warehouseCatalog.js';
import { parseDuration, positiveInt } from '../context.js';
import { formatTable } from '../table.js';

/** An unknown `--table` is a usage error naming the tables there are, not a silent no-op. */
async function assertTable(warehouse: string, table: string): Promise<void> {
  const names = (await allTables(warehouse)).map((t) => t.table);
  if (!names.includes(table))
    throw new LakehouseError(
      'CONFIG',
      `--table: no table "${table}" in warehouse ${warehouse}; ` +
        (names.length > 0 ? `tables: ${[...new Set(names)].join(', ')}` : 'it has no tables yet'),
    );
}

export function maintenanceCommands(program: Command): void {
  program
    .command('compact')
    .description(
      'Rewrite small data files of each partition into larger ones (a "replace" snapshot; rows unchanged)',
    )
    .option('--table <name>', 'only this table')
    .option(
      '--warehouse <dir>',
      'warehouse directory (default: LAKEHOUSE_WAREHOUSE or ./.lakehouse/warehouse)',
    )
    .option(
      '--small-file-bytes <n>',
      'files below this size are rewritten',
      positiveInt('--small-file-bytes'),
    )
    .option('--json', 'print the result as JSON')
    .action(async (opts: { table?: string; warehouse?: string; smallFileBytes?: number; json?: boolean }) => {
      const warehouse = resolveWarehouse(opts.warehouse);
      if (opts.table) await assertTable(warehouse, opts.table);
      const r = await compact({
        warehouse,
        ...(opts.table ? { table: opts.table } : {}),
        ...(opts.smallFileBytes ? { smallFileBytes: opts.smallFileBytes } : {}),
      });
      if (opts.json) process.stdout.write(`${JSON.stringify({ tables: r })}\n`);
      else
        process.stdout.write(
          formatTable(
            ['table', 'partitions', 'files removed', 'files added'],
            r.map((x) => [x.table, x.partitionsRewritten, x.filesRemoved, x.filesAdded]),
          ),
        );
    });
  program
    .command('expire-snapshots')
    .description('Forget old snapshots and delete the files only they referenced')
    .option('--older-than <duration>', 'age past which a snapshot may expire (e.g. 30d, 12h)', '30d')
    .option(
      '--retain-last <n>',
      'always keep this many most recent snapshots',
      positiveInt('--retain-last'),
      5,
    )
    .option('--table <name>', 'only this table')
    .option(
      '--warehouse <dir>',
      'warehouse directory (default: LAKEHOUSE_WAREHOUSE or ./.lakehouse/warehouse)',
    )
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: {
        olderThan: string;
        retainLast: number;
        table?: string;
        warehouse?: string;
        json?: boolean;
      }) => {
        const warehouse = resolveWarehouse(opts.warehouse);
        if (opts.table) await assertTable(warehouse, opts.table);
        const r = await expireSnapshots({
          warehouse,
          olderThanMs: parseDuration(opts.olderThan, '--older-than') * 1000,
          retainLast: opts.retainLast,
          ...(opts.table ? { table: opts.table } : {}),
        });
        if (opts.json) process.stdout.write(`${JSON.stringify({ tables: r })}\n`);
        else
          process.stdout.write(
            formatTable(
              ['table', 'snapshots expired', 'files deleted'],
              r.map((x) => [x.table, x.snapshotsExpired, x.filesDeleted]),
            ),
          );
      },
    );
}
