import { type Command, InvalidArgumentError } from 'commander';
import { createDashboard } from '../../dashboard/routes.js';
import { type DemoResult, runDemo } from '../../demo/runDemo.js';
import { resolveWarehouse } from '../../lakehouse/options.js';
import { type CliContext, positiveInt } from '../context.js';
import { formatRows } from '../table.js';

interface DemoCliOptions {
  host: string;
  port: string;
  warehouse?: string;
  tenants: number;
  days: number;
  start: string;
  rate: number;
  duration: number;
  dashboard: boolean;
  keepRunning?: boolean;
  likeCloudflare?: boolean;
  json?: boolean;
}

function printResults(r: DemoResult, json: boolean, dashboard: boolean): void {
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        emitted: r.emitted,
        delivered: r.delivered,
        pending: r.pending,
        queries: r.queries.map((q) => ({ name: q.name, report: q.report, sql: q.sql, rows: q.rows })),
        dashboard: dashboard ? r.dashboardUrl : null,
        catalog: r.catalogUrl,
      })}\n`,
    );
    return;
  }
  for (const q of r.queries) {
    process.stdout.write(`\n== ${q.name} ==  (lakehouse report ${q.report})\n`);
    process.stdout.write(formatRows(q.columns, q.rows));
  }
  process.stdout.write('\n');
  if (dashboard) process.stdout.write(`Dashboard:       ${r.dashboardUrl}\n`);
  process.stdout.write(`Iceberg catalog: ${r.catalogUrl.replace(/\/v1\/config$/, '')}\n`);
  process.stdout.write(
    `SQL:             curl -s ${r.lakehouseUrl}/sql -d '{"query":"SELECT COUNT(DISTINCT order_id) FROM lakehouse.orders"}'\n`,
  );
}

export function demoCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('demo')
    .description(
      'Run the whole data platform in one process (lakehouse server, relay, a simulated Company Manager), ' +
        "then print the plan's analytics queries",
    )
    .option('--host <host>', 'address of the lakehouse server', '127.0.0.1')
    .option('--port <port>', 'port of the lakehouse server (0 = any free port)', '8787')
    .option(
      '--warehouse <dir>',
      'warehouse directory (default: LAKEHOUSE_WAREHOUSE or ./.lakehouse/warehouse)',
    )
    .option('--tenants <n>', 'simulated tenants', positiveInt('--tenants'), 5)
    .option('--days <n>', 'days of history to load', positiveInt('--days'), 90)
    .option(
      '--start <date>',
      "first day of the history (the plan's queries look at Jan/Feb 2026)",
      '2026-01-01',
    )
    .option('--rate <n>', 'business operations per second in the live phase', positiveInt('--rate'), 20)
    .option(
      '--duration <s>',
      'seconds of live simulation after the history',
      (v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0)
          throw new InvalidArgumentError(`--duration must be a number of seconds, got "${v}"`);
        return n;
      },
      15,
    )
    .option('--no-dashboard', 'do not serve the dashboard')
    .option(
      '--like-cloudflare',
      'run the lake as Cloudflare Pipelines do (duplicates kept: the reports still count each order once)',
    )
    .option('--keep-running', 'stay up after printing the results, until Ctrl-C')
    .option('--json', 'print the results as JSON')
    .action(async (opts: DemoCliOptions) => {
      if (!/^\d{4}-\d\d-\d\d$/.test(opts.start))
        throw new Error(`--start must be a date like 2026-01-01, got "${opts.start}"`);
      const c = ctx();
      const warehouse = resolveWarehouse(opts.warehouse);
      const dashboard = opts.dashboard
        ? createDashboard({
            databaseUrl: c.config.databaseUrl,
            redisUrl: c.config.redisUrl,
            schema: c.config.schema,
            warehouse,
            host: opts.host,
          })
        : undefined;
      if (dashboard) c.onClose(() => dashboard.close());
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const result = await runDemo({
          databaseUrl: c.config.databaseUrl,
          redisUrl: c.config.redisUrl,
          schema: c.config.schema,
          warehouse,
          extraRoutes: dashboard?.routes,
          host: opts.host,
          port: Number(opts.port),
          tenants: opts.tenants,
          days: opts.days,
          start: opts.start,
          rate: opts.rate,
          duration: opts.duration,
          keepRunning: opts.keepRunning,
          likeCloudflare: opts.likeCloudflare === true,
          signal: stop.signal,
          progress: process.stderr,
          isTty: process.stderr.isTTY === true,
          onResults: (r) => {
            if (!r.aborted) printResults(r, opts.json === true, opts.dashboard);
            if (opts.keepRunning && !r.aborted) process.stderr.write('Running; press Ctrl-C to stop.\n');
          },
        });
        if (result.aborted) process.stderr.write('\nlakehouse demo: stopped\n');
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}
