import { type Command, InvalidArgumentError } from 'commander';
import { resolveWarehouse } from '../../lakehouse/options.js';
import { QueryError, runQuery } from '../../lakehouse/query.js';
import { EXIT, positiveInt } from '../context.js';
import { formatTable, toCsv } from '../table.js';

interface QueryCliOptions {
  remote?: boolean;
  json?: boolean;
  csv?: boolean;
  tenant?: string;
  explain?: boolean;
  warehouse?: string;
  maxRows: number;
}

/** Prints a result as a table, CSV, or the R2 SQL JSON shape (also used by `query --remote`). */
export function printResult(
  r: { schema: { name: string }[]; rows: Record<string, unknown>[]; metrics: unknown },
  opts: { json?: boolean; csv?: boolean },
): void {
  const names = r.schema.map((c) => c.name);
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ success: true, errors: [], result: { schema: r.schema, rows: r.rows, metrics: r.metrics } })}\n`,
    );
  } else if (opts.csv) {
    process.stdout.write(toCsv(names, r.rows));
  } else {
    process.stdout.write(
      formatTable(
        names,
        r.rows.map((row) => names.map((n) => row[n])),
      ),
    );
  }
}

export function queryCommand(program: Command): void {
  program
    .command('query')
    .description('Run a read-only SQL query over the lake tables (orders, product_changes, ...)')
    .argument('<sql>', 'one SELECT statement')
    .option('--json', 'print {"success","errors","result":{schema,rows,metrics}} like R2 SQL')
    .option('--csv', 'print CSV with a header line')
    .option('--tenant <id>', "only this tenant's rows are visible")
    .option('--max-rows <n>', 'largest result; more rows is an error', positiveInt('--max-rows'), 10_000)
    .option('--explain', 'print which files each table reads (pruned by partition values)')
    .option('--remote', 'run on Cloudflare through Basin SQL (qualify tables: lakehouse.orders)')
    .option(
      '--warehouse <dir>',
      'warehouse directory (default: LAKEHOUSE_WAREHOUSE or ./.lakehouse/warehouse)',
    )
    .action(async (sql: string, opts: QueryCliOptions) => {
      if (opts.remote) {
        const { remoteQueryCommand } = await import('./remoteQuery.js');
        return remoteQueryCommand(sql, opts);
      }
      if (opts.tenant !== undefined && opts.tenant.trim() === '') {
        throw new InvalidArgumentError(
          '--tenant must be a tenant id; it is empty (omit it to query every tenant)',
        );
      }
      try {
        const r = await runQuery(
          resolveWarehouse(opts.warehouse),
          sql,
          // --tenant "" is an error (strict scoping), not "every tenant".
          { ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}), maxRows: opts.maxRows },
        );
        if (opts.explain) {
          for (const p of r.plan) {
            process.stderr.write(
              `${p.table} @ snapshot ${p.snapshotId}: ${p.filesScanned} of ${p.filesTotal} files` +
                `${p.predicates.length > 0 ? ` (${p.predicates.join(', ')})` : ''}\n`,
            );
          }
          process.stderr.write(
            `files scanned: ${r.metrics.files_scanned} of ${r.metrics.files_total}, bytes: ${r.metrics.bytes_scanned}\n`,
          );
        }
        printResult(r, opts);
      } catch (e) {
        if (!(e instanceof QueryError)) throw e;
        if (opts.json) {
          process.stdout.write(
            `${JSON.stringify({ success: false, errors: [{ message: e.message }], result: null })}\n`,
          );
        } else {
          process.stderr.write(
            `lakehouse: query ${e.code === 'REJECTED' ? 'rejected' : 'failed'}: ${e.message}\n`,
          );
        }
        process.exitCode = EXIT.failed;
      }
    });
}
