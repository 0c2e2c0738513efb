import { type Command, InvalidArgumentError, Option } from 'commander';
import { envConfig } from '../../config.js';
import { createDashboard } from '../../dashboard/routes.js';
import type { ExpireResult } from '../../lakehouse/expireSnapshots.js';
import { resolveServeOptions, resolveWarehouse } from '../../lakehouse/options.js';
import { createLakehouseServer } from '../../lakehouse/server.js';
import { pipelinesOf } from '../../pipelines/catalogPipelines.js';
import { loadPipelines } from '../../pipelines/definePipeline.js';
import { durationSeconds, parseDuration, positiveInt } from '../context.js';
import { projectConfig } from '../projectConfig.js';

interface ServeCliOptions {
  host: string;
  port: string;
  warehouse?: string;
  maxBodyBytes: number;
  rollIntervalMs: number;
  rollRecords: number;
  dedupe: boolean;
  likeCloudflare?: boolean;
  dashboard: boolean;
  allowedHost: string[];
  maxRows: number;
  queryTimeout: string;
  queryMemoryMb: number;
  compactInterval: string;
  expireInterval?: number;
  expireOlderThan: number;
  expireRetainLast: number;
}

export function serveCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'Run the local data platform: Pipelines-compatible ingest, Iceberg tables, SQL and a REST catalog',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port)', '8787')
    .option(
      '--warehouse <dir>',
      'warehouse directory (default: LAKEHOUSE_WAREHOUSE or ./.lakehouse/warehouse)',
    )
    .option('--max-body-bytes <n>', 'largest ingest request body', positiveInt('--max-body-bytes'), 1_000_000)
    .option(
      '--roll-interval-ms <n>',
      'commit staged records at least this often',
      positiveInt('--roll-interval-ms'),
      1000,
    )
    .option(
      '--roll-records <n>',
      'commit as soon as this many records are staged',
      positiveInt('--roll-records'),
      10_000,
    )
    .option('--no-dedupe', 'keep records whose event_id the table already has')
    .option(
      '--like-cloudflare',
      'behave as Cloudflare Pipelines: no dedupe by event_id, records failing the stream schema ' +
        'answered 200 and dropped (counted as user errors in GET /stats), unknown fields stripped',
    )
    .option(
      '--allowed-host <name>',
      "a Host header to answer besides this machine's addresses (repeatable; others are refused)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      '--compact-interval <duration>',
      'merge the small files of busy partitions in the background this often (0s = never)',
      '60s',
    )
    .option(
      '--expire-interval <duration>',
      'expire old snapshots in the background this often, as `lakehouse expire-snapshots` (e.g. 1h; off by default)',
      durationSeconds('--expire-interval'),
    )
    .addOption(
      new Option(
        '--expire-older-than <duration>',
        'with --expire-interval: age past which a snapshot may expire',
      )
        .argParser(durationSeconds('--expire-older-than'))
        .default(7 * 86400, '7d'),
    )
    .option(
      '--expire-retain-last <n>',
      'with --expire-interval: always keep this many most recent snapshots per table',
      positiveInt('--expire-retain-last'),
      5,
    )
    .option('--max-rows <n>', 'largest /sql result; more rows is an error', positiveInt('--max-rows'), 10_000)
    .option('--query-timeout <duration>', '/sql queries are cancelled after this long (e.g. 30s, 2m)', '30s')
    .option(
      '--query-memory-mb <n>',
      'memory of each /sql query process (DuckDB limit, and as much again for its heap)',
      positiveInt('--query-memory-mb'),
      1024,
    )
    .option(
      '--no-dashboard',
      'do not serve the dashboard at /dashboard (it reads DATABASE_URL / LAKEHOUSE_DB_SCHEMA)',
    )
    .addHelpText(
      'after',
      '\nEndpoints:\n' +
        '  POST /ingest/{stream}   JSON array of records; 200 {"committed":N} once durably staged\n' +
        '  POST /sql               {"query":"SELECT ..."} → R2 SQL-shaped answer\n' +
        '  GET  /stats             per table: records received, user errors, records dropped by the transform\n' +
        '  GET  /catalog/v1/...    Iceberg REST catalog (read-only)\n' +
        '  GET  /dashboard         delivery, parked events, lake tables, SQL (LAKEHOUSE_DASHBOARD_TOKEN)\n' +
        'Set LAKEHOUSE_SINK_TOKEN to require "Authorization: Bearer <token>" on ingest, and\n' +
        'LAKEHOUSE_DASHBOARD_TOKEN on /sql, /catalog and /dashboard. Both are required with a\n' +
        'non-loopback --host. Requests with another Host header, and cross-origin POSTs, are refused.',
    )
    .action(async (opts: ServeCliOptions) => {
      const o = resolveServeOptions({
        host: opts.host,
        port: Number(opts.port),
        maxBodyBytes: opts.maxBodyBytes,
        rollIntervalMs: opts.rollIntervalMs,
        rollRecords: opts.rollRecords,
      });
      const warehouse = resolveWarehouse(opts.warehouse);
      const { catalog } = await projectConfig();
      // The catalog's transforms are checked before the warehouse is touched (exit 2 naming the stream).
      const pipelines = await loadPipelines(pipelinesOf(catalog));
      const env = envConfig();
      const dashboard = opts.dashboard
        ? createDashboard({
            databaseUrl: env.databaseUrl,
            redisUrl: env.redisUrl,
            schema: env.schema,
            warehouse,
            host: o.host,
            streamNames: catalog.names,
          })
        : undefined;
      const timeoutMs = parseDuration(opts.queryTimeout, '--query-timeout') * 1000;
      if (!(timeoutMs > 0)) throw new InvalidArgumentError('--query-timeout must be longer than 0s');
      const server = createLakehouseServer({
        ...o,
        warehouse,
        catalog,
        pipelines,
        token: process.env.LAKEHOUSE_SINK_TOKEN || undefined,
        accessToken: process.env.LAKEHOUSE_DASHBOARD_TOKEN || undefined,
        allowedHosts: opts.allowedHost,
        queries: { maxRows: opts.maxRows, timeoutMs, memoryMb: opts.queryMemoryMb },
        compactIntervalMs: parseDuration(opts.compactInterval, '--compact-interval') * 1000,
        ...(opts.expireInterval
          ? {
              expire: {
                expireIntervalMs: opts.expireInterval * 1000,
                expireOlderThanMs: opts.expireOlderThan * 1000,
                expireRetainLast: opts.expireRetainLast,
                onExpired: logExpiry,
              },
            }
          : {}),
        dedupe: opts.dedupe,
        likeCloudflare: opts.likeCloudflare === true,
        routes: dashboard?.routes,
        onError: (e, what) =>
          process.stderr.write(`lakehouse: ${what}: ${(e as Error)?.stack ?? String(e)}\n`),
      });
      await server.start();
      process.stdout.write(
        `${JSON.stringify({ listening: server.url, warehouse, mode: opts.likeCloudflare ? 'cloudflare' : 'strict' })}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      // Whatever runs, the process ends within 10 s of the signal: acknowledged records are
      // durable in the staging log, so a commit cut short is finished at the next start.
      setTimeout(() => {
        process.stderr.write(
          'lakehouse: stop took over 9 s; exiting (staged records are committed at the next start)\n',
        );
        process.exit(1);
      }, 9000).unref();
      await server.stop();
      await dashboard?.close();
    });
}

/** One line per background expiry: how many snapshots and files went, per table that lost any. */
function logExpiry(tables: ExpireResult[]): void {
  const done = tables.filter((t) => t.snapshotsExpired > 0);
  const snapshots = done.reduce((n, t) => n + t.snapshotsExpired, 0);
  const files = done.reduce((n, t) => n + t.filesDeleted, 0);
  const which = done.map((t) => `${t.table} ${t.snapshotsExpired}`).join(', ');
  process.stderr.write(
    `lakehouse: snapshot expiry: ${snapshots} snapshot(s) expired, ${files} file(s) deleted` +
      `${which ? ` (${which})` : ''}\n`,
  );
}
