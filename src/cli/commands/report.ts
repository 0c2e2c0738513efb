import { type Command, InvalidArgumentError } from 'commander';
import { resolveWarehouse } from '../../lakehouse/options.js';
import { QueryError } from '../../lakehouse/query.js';
import { REPORT_NAMES, REPORTS, reportSql } from '../../reports/reports.js';
import { localExecutor, runReport } from '../../reports/runReport.js';
import { EXIT, positiveInt } from '../context.js';
import { findLakeTables } from '../lakeTables.js';
import { formatRows, toCsv } from '../table.js';

interface ReportCliOptions {
  month?: string;
  year?: number;
  tenant?: string;
  minChanges?: number;
  threshold?: number;
  json?: boolean;
  csv?: boolean;
  sql?: boolean;
  remote?: boolean;
  warehouse?: string;
}

const number = (name: string) => (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n))
    throw new InvalidArgumentError(`${name} must be a number, got "${v}"`);
  return n;
};

export function reportCommand(program: Command): void {
  program
    .command('report')
    .description(
      "Run one of the plan's five analytics questions over the lake, each order counted once " +
        '(README "Reports": what each column means)',
    )
    .argument('<name>', REPORT_NAMES.join(' | '))
    .option('--month <YYYY-MM>', 'revenue-by-tenant, platform-health, churn-risk: the month')
    .option('--year <YYYY>', 'price-changes: the year', positiveInt('--year'))
    .option(
      '--tenant <id>',
      "monthly-trend, price-changes: the tenant; other reports: only this tenant's rows",
    )
    .option(
      '--min-changes <n>',
      'price-changes: products with at least n price changes (default 5)',
      positiveInt('--min-changes'),
    )
    .option(
      '--threshold <pct>',
      'churn-risk: order count change below this percentage (default -30)',
      number('--threshold'),
    )
    .option('--json', 'print an array of row objects')
    .option('--csv', 'print CSV with a header line')
    .option(
      '--sql',
      'print the SQL instead of running it (the same text runs on Basin SQL; a stream with several versions reads all its version tables)',
    )
    .option(
      '--remote',
      'run on Cloudflare through Basin SQL (CLOUDFLARE_ACCOUNT_ID, LAKEHOUSE_R2_BUCKET, token)',
    )
    .option(
      '--warehouse <dir>',
      'warehouse directory (default: LAKEHOUSE_WAREHOUSE or ./.lakehouse/warehouse)',
    )
    .addHelpText(
      'after',
      `\nReports:\n${REPORT_NAMES.map((n) => `  ${n.padEnd(18)} needs ${REPORTS[n].requires.map((r) => `--${r}`).join(', ')}`).join('\n')}`,
    )
    .action(async (name: string, opts: ReportCliOptions) => {
      const params = {
        month: opts.month,
        year: opts.year,
        tenant: opts.tenant,
        minChanges: opts.minChanges,
        threshold: opts.threshold,
      };
      reportSql(name, params); // parameters are checked before the lake is read
      try {
        // On Basin SQL a --tenant scope is the tenant in the report's own WHERE clauses.
        const warehouse = opts.remote ? undefined : resolveWarehouse(opts.warehouse);
        const execute = warehouse
          ? localExecutor(warehouse)
          : (await import('./remoteQuery.js')).basinExecutor('report --remote');
        const tables = await findLakeTables(warehouse ? { warehouse } : { remote: true }, execute);
        if (opts.sql) {
          process.stdout.write(`${reportSql(name, params, tables).sql}\n`);
          return;
        }
        const r = await runReport(name, params, execute, tables);
        if (opts.json) process.stdout.write(`${JSON.stringify(r.rows)}\n`);
        else if (opts.csv) process.stdout.write(toCsv(r.columns, r.rows));
        else {
          process.stdout.write(`${r.title}\n`);
          process.stdout.write(formatRows(r.columns, r.rows));
        }
      } catch (e) {
        const { BasinSqlError } = await import('../../pipelines/basinSql.js');
        if (!(e instanceof QueryError) && !(e instanceof BasinSqlError)) throw e;
        process.stderr.write(`lakehouse: report ${name} failed: ${e.message}\n`);
        process.exitCode = EXIT.failed;
      }
    });
}
