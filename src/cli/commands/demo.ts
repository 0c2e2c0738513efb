import { relative, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { assertSchemaName } from '../../config.js';
import { createDashboard } from '../../dashboard/routes.js';
import { type DemoResult, type DemoRunInfo, runDemo } from '../../demo/runDemo.js';
import { type CliContext, positiveInt } from '../context.js';
import { formatRows } from '../table.js';

interface DemoCliOptions {
  host: string;
  port: string;
  schema: string;
  warehouse: string;
  reset?: boolean;
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

/** Where the demo's data is and how to look at it; URLs only while something serves them. */
function printWhere(r: DemoResult, dashboard: boolean, serving: boolean): void {
  const rel = relative(process.cwd(), r.warehouse);
  const w = rel === '' ? '.' : rel.startsWith('..') ? r.warehouse : rel;
  const lines = [
    `Data: lake (Iceberg) in ${w}; outbox in PostgreSQL schema "${r.schema}" (DATABASE_URL).`,
    `  lakehouse report revenue-by-tenant --month 2026-02 --warehouse ${w}`,
    `  LAKEHOUSE_DB_SCHEMA=${r.schema} lakehouse status`,
    `  lakehouse serve --warehouse ${w}      (Iceberg REST catalog and SQL over HTTP)`,
  ];
  if (serving) {
    if (dashboard) lines.push(`Dashboard:       ${r.dashboardUrl}`);
    lines.push(`Iceberg catalog: ${r.catalogUrl.replace(/\/v1\/config$/, '')}`);
    lines.push(
      `SQL:             curl -s ${r.lakehouseUrl}/sql -d '{"query":"SELECT COUNT(DISTINCT order_id) FROM lakehouse.orders"}'`,
    );
  } else {
    lines.push('Run again with --keep-running to keep the dashboard and the catalog up after the results;');
    lines.push('a next run continues this world (--reset starts it afresh).');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printResults(r: DemoResult, json: boolean, dashboard: boolean, serving: boolean): void {
  if (json) {
    process.stdout.write(
      `${JSON.stringify({
        emitted: r.emitted,
        delivered: r.delivered,
        pending: r.pending,
        queries: r.queries.map((q) => ({ name: q.name, report: q.report, sql: q.sql, rows: q.rows })),
        schema: r.schema,
        warehouse: r.warehouse,
        run: r.run,
        continued: r.continued,
        dashboard: dashboard && serving ? r.dashboardUrl : null,
        catalog: serving ? r.catalogUrl : null,
      })}\n`,
    );
    return;
  }
  for (const q of r.queries) {
    process.stdout.write(`\n== ${q.name} ==  (lakehouse report ${q.report})\n`);
    process.stdout.write(formatRows(q.columns, q.rows));
  }
  process.stdout.write('\n');
  printWhere(r, dashboard, serving);
}

function printStart(i: DemoRunInfo): void {
  const world = `${i.tenants} tenants, ${i.days} days from ${i.start}`;
  process.stderr.write(
    i.continued
      ? `lakehouse demo: continuing the world in schema "${i.schema}" (${world}; run ${i.run}); --reset starts afresh\n`
      : `lakehouse demo: new world in schema "${i.schema}", warehouse ${i.warehouse} (${world}; ${i.freshBecause})\n`,
  );
}

export function demoCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('demo')
    .description(
      'Run the whole data platform in one process (lakehouse server, relay, a simulated Company Manager), ' +
        "then print the plan's analytics queries. It uses its own schema and warehouse; a second run " +
        'continues the same world, --reset starts it afresh',
    )
    .option('--host <host>', 'address of the lakehouse server', '127.0.0.1')
    .option('--port <port>', 'port of the lakehouse server (0 = any free port)', '8787')
    .option(
      '--schema <name>',
      "the demo's outbox schema (and queue); never LAKEHOUSE_DB_SCHEMA, so it stays apart from real events",
      'lakehouse_demo',
    )
    .option(
      '--warehouse <dir>',
      "the demo's warehouse directory (never LAKEHOUSE_WAREHOUSE)",
      './.lakehouse/demo',
    )
    .option('--reset', 'drop the demo world (its schemas and warehouse) and start afresh')
    .option('--tenants <n>', 'simulated tenants of a new world', positiveInt('--tenants'), 5)
    .option('--days <n>', 'days of history of a new world', positiveInt('--days'), 90)
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
    .option('--keep-running', 'keep the dashboard, catalog and relay up after the results, until Ctrl-C')
    .option('--json', 'print the results as JSON')
    .action(async (opts: DemoCliOptions) => {
      if (!/^\d{4}-\d\d-\d\d$/.test(opts.start))
        throw new InvalidArgumentError(`--start must be a date like 2026-01-01, got "${opts.start}"`);
      const c = ctx();
      const schema = assertSchemaName(opts.schema);
      const warehouse = resolve(opts.warehouse);
      const dashboard = opts.dashboard
        ? createDashboard({
            databaseUrl: c.config.databaseUrl,
            redisUrl: c.config.redisUrl,
            schema,
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
          schema,
          warehouse,
          reset: opts.reset === true,
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
          onStart: printStart,
          onResults: (r) => {
            if (!r.aborted) printResults(r, opts.json === true, opts.dashboard, opts.keepRunning === true);
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
