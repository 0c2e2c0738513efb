import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ResolvedConfig } from '../../config/loadConfig.js';
import type { FailedLane } from '../../relay/findPendingLanes.js';
import type { StreamRelayOptions } from '../../relay/options.js';
import { createRelay, defaultLogger } from '../../relay/relay.js';
import { startRetention } from '../../relay/retention.js';
import { cloudflareRelayMetrics } from '../cloudflareRelayMetrics.js';
import { type CliContext, durationSeconds, parseDuration, positiveInt } from '../context.js';
import { withRedis } from '../doctor/probes.js';
import { projectConfig } from '../projectConfig.js';

interface RelayCliOptions {
  untilIdle?: boolean;
  concurrency?: number;
  metricsPort?: number;
  sweepIntervalMs?: number;
  rateLimit?: number;
  cloudflare?: boolean;
  retryAttempts?: number;
  retryDelay?: number;
  cloudflareMetricsInterval: number;
  pruneOlderThan?: number;
  pruneInterval: number;
}

export function relayCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('relay')
    .description(
      'Deliver the outbox to the sink (LAKEHOUSE_SINK_URL), in order per partition, until SIGTERM/SIGINT',
    )
    .option(
      '--until-idle',
      'exit once nothing deliverable is pending or in flight: 0, or 1 naming the batches parked as failed (parked events and blocked partitions do not count)',
    )
    .option('--concurrency <n>', 'lanes delivered at once by this process', positiveInt('--concurrency'), 4)
    .option('--metrics-port <port>', 'serve /metrics and /healthz on this port (127.0.0.1)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535)
        throw new InvalidArgumentError(`--metrics-port must be a port number, got "${v}"`);
      return n;
    })
    .option(
      '--rate-limit <bytes>',
      'bytes per second sent per stream by this process (default 5000000, the Pipelines per-stream limit)',
      positiveInt('--rate-limit'),
    )
    .option(
      '--cloudflare',
      'send each record to the newest deployed version of its stream whose schema it matches, read from the ' +
        'Cloudflare account (CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID) at start: records are checked against ' +
        'the deployed schemas, not the local catalog; restart after `pipelines apply --new-version`',
    )
    .option(
      '--retry-attempts <n>',
      'attempts of one batch before it is parked as failed and its lane waits (default 10)',
      positiveInt('--retry-attempts'),
    )
    .option(
      '--retry-delay <duration>',
      'backoff after the first failed attempt of a batch, doubled per attempt up to 30s (default 0.5s)',
      (v) => parseDuration(v, '--retry-delay'),
    )
    .option(
      '--cloudflare-metrics-interval <duration>',
      'with --metrics-port and Cloudflare credentials (--cloudflare, or CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID): ' +
        'how often the lakehouse_cloudflare_* gauges are read from Cloudflare',
      (v) => parseDuration(v, '--cloudflare-metrics-interval'),
      60,
    )
    .option(
      '--sweep-interval-ms <ms>',
      'how often to look for lanes with pending events',
      positiveInt('--sweep-interval-ms'),
      1000,
    )
    .option(
      '--prune-older-than <duration>',
      'scheduled retention (off by default): while running, delete delivered events older than this ' +
        '(7d, 12h, ...; a bare number is refused), as `lakehouse prune` does: never an undelivered, ' +
        'parked or aggregate event. The first prune runs at start',
      durationSeconds('--prune-older-than'),
    )
    .addOption(
      new Option('--prune-interval <duration>', 'time between two scheduled prunes (with --prune-older-than)')
        .argParser(durationSeconds('--prune-interval'))
        .default(3600, '1h'),
    )
    .addHelpText(
      'after',
      '\nEnvironment: DATABASE_URL, REDIS_URL, LAKEHOUSE_DB_SCHEMA, LAKEHOUSE_SINK_URL (a URL template in which\n' +
        '{stream} is replaced by the stream name; default http://127.0.0.1:8787/ingest/{stream}),\n' +
        'LAKEHOUSE_SINK_TOKEN (sent as Authorization: Bearer), LAKEHOUSE_LOG_LEVEL (default info).\n' +
        'Logs are JSON lines on standard error.',
    )
    .action(async (opts: RelayCliOptions) => {
      if (opts.pruneOlderThan !== undefined && opts.untilIdle)
        throw new InvalidArgumentError(
          '--prune-older-than schedules retention in a running relay; with --until-idle, run `lakehouse prune` afterwards',
        );
      if (!(opts.pruneInterval > 0))
        throw new InvalidArgumentError('--prune-interval must be longer than 0s');
      const c = ctx();
      // Fail fast (exit 2, "cannot reach Redis") instead of starting a relay that retries forever.
      await withRedis(c.config.redisUrl, (r) => r.ping());
      const config = await projectConfig();
      const sink = opts.cloudflare
        ? await (await import('../../pipelines/cloudflareSink.js')).createCloudflareSink(
            {},
            process.env,
            config.catalog,
          )
        : undefined;
      const logger = defaultLogger();
      const relay = createRelay({
        ...(sink ? { sink } : {}),
        catalog: config.catalog,
        streams: streamSettings(config, opts.rateLimit),
        logger,
        databaseUrl: c.config.databaseUrl,
        redisUrl: c.config.redisUrl,
        schema: c.config.schema,
        concurrency: opts.concurrency,
        metricsPort: opts.metricsPort,
        sweepIntervalMs: opts.sweepIntervalMs,
        ...(opts.rateLimit ? { defaults: { rateLimitBytesPerSecond: opts.rateLimit } } : {}),
        retry: {
          ...(opts.retryAttempts ? { attempts: opts.retryAttempts } : {}),
          ...(opts.retryDelay ? { baseDelayMs: Math.max(1, Math.round(opts.retryDelay * 1000)) } : {}),
        },
      });
      const cloudflareMetrics =
        opts.metricsPort === undefined
          ? undefined
          : await cloudflareRelayMetrics(relay.metrics.registry, {
              cloudflare: opts.cloudflare === true,
              intervalSeconds: opts.cloudflareMetricsInterval,
            });
      const retention =
        opts.pruneOlderThan === undefined
          ? undefined
          : startRetention({
              databaseUrl: c.config.databaseUrl,
              schema: c.config.schema,
              olderThanSeconds: opts.pruneOlderThan,
              intervalMs: opts.pruneInterval * 1000,
              catalog: config.catalog,
              logger,
            });
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        if (opts.untilIdle) {
          const { failedBatches } = await relay.runUntilIdle({ signal: stop.signal });
          if (failedBatches.length > 0) {
            process.exitCode = 1;
            reportFailedBatches(failedBatches);
          }
        } else {
          await relay.start();
          if (relay.metricsUrl)
            process.stderr.write(`lakehouse relay: metrics at ${relay.metricsUrl}/metrics\n`);
          // A signal during start() has already fired: an 'abort' listener added now would never run.
          if (!stop.signal.aborted)
            await new Promise<void>((resolve) =>
              stop.signal.addEventListener('abort', () => resolve(), { once: true }),
            );
          await relay.stop();
        }
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        cloudflareMetrics?.stop();
        await Promise.all([retention?.stop(), relay.stop()]);
      }
    });
}

/** The config's relay settings per stream; `--rate-limit` wins over them. */
function streamSettings(config: ResolvedConfig, rateLimit?: number): Record<string, StreamRelayOptions> {
  return Object.fromEntries(
    config.catalog.names.map((n) => [
      n,
      { ...config.relayFor(n), ...(rateLimit ? { rateLimitBytesPerSecond: rateLimit } : {}) },
    ]),
  );
}

/** Names each batch parked as failed: its stream and lane, what it holds, and its error. */
function reportFailedBatches(failed: FailedLane[]): void {
  process.stderr.write(
    `lakehouse relay: ${failed.length} batch(es) parked as failed after the retry budget:\n`,
  );
  for (const f of failed) {
    const keys = f.partitionKeys.join(', ');
    process.stderr.write(
      `  ${f.stream} lane ${f.lane}: ${f.pending} event(s) held (partition${f.partitionKeys.length > 1 || f.morePartitions ? 's' : ''} ${keys}${f.morePartitions ? ', ...' : ''}): ${f.error ?? 'unknown error'}\n`,
    );
  }
  process.stderr.write(
    'Fix the sink, then run `lakehouse replay --stream <stream>` (or wait for the slow retry).\n',
  );
}
