import { type Command, InvalidArgumentError } from 'commander';
import { createRelay } from '../../relay/relay.js';
import { type CliContext, positiveInt } from '../context.js';
import { withRedis } from '../doctor/probes.js';

interface RelayCliOptions {
  untilIdle?: boolean;
  concurrency?: number;
  metricsPort?: number;
  sweepIntervalMs?: number;
  rateLimit?: number;
}

export function relayCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('relay')
    .description(
      'Deliver the outbox to the sink (LAKEHOUSE_SINK_URL), in order per partition, until SIGTERM/SIGINT',
    )
    .option(
      '--until-idle',
      'exit 0 once nothing is pending or in flight (parked events and failed batches do not count)',
    )
    .option(
      '--concurrency <n>',
      'partitions delivered at once by this process',
      positiveInt('--concurrency'),
      4,
    )
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
      '--sweep-interval-ms <ms>',
      'how often to look for pending partitions',
      positiveInt('--sweep-interval-ms'),
      1000,
    )
    .addHelpText(
      'after',
      '\nEnvironment: DATABASE_URL, REDIS_URL, LAKEHOUSE_DB_SCHEMA, LAKEHOUSE_SINK_URL (a URL template in which\n' +
        '{stream} is replaced by the stream name; default http://127.0.0.1:8787/ingest/{stream}),\n' +
        'LAKEHOUSE_SINK_TOKEN (sent as Authorization: Bearer), LAKEHOUSE_LOG_LEVEL (default info).\n' +
        'Logs are JSON lines on standard error.',
    )
    .action(async (opts: RelayCliOptions) => {
      const c = ctx();
      // Fail fast (exit 2, "cannot reach Redis") instead of starting a relay that retries forever.
      await withRedis(c.config.redisUrl, (r) => r.ping());
      const relay = createRelay({
        databaseUrl: c.config.databaseUrl,
        redisUrl: c.config.redisUrl,
        schema: c.config.schema,
        concurrency: opts.concurrency,
        metricsPort: opts.metricsPort,
        sweepIntervalMs: opts.sweepIntervalMs,
        ...(opts.rateLimit ? { defaults: { rateLimitBytesPerSecond: opts.rateLimit } } : {}),
      });
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        if (opts.untilIdle) {
          await relay.runUntilIdle({ signal: stop.signal });
        } else {
          await relay.start();
          if (relay.metricsUrl)
            process.stderr.write(`lakehouse relay: metrics at ${relay.metricsUrl}/metrics\n`);
          await new Promise<void>((resolve) =>
            stop.signal.addEventListener('abort', () => resolve(), { once: true }),
          );
          await relay.stop();
        }
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        await relay.stop();
      }
    });
}
