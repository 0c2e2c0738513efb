import { Gauge, type Registry } from 'prom-client';
import type { CloudflareApi } from './cloudflare/api.js';
import { type CloudflareStatus, cloudflareStatus } from './cloudflareStatus.js';
import { DEFAULT_ROLL_INTERVAL } from './plan.js';
import type { PipelineDefinition } from './types.js';

/** Options of {@link registerCloudflareMetrics}. */
export interface CloudflareMetricsOptions {
  api: CloudflareApi;
  /** Default: the six definitions. */
  defs?: readonly PipelineDefinition[];
  /** Window the gauges cover, back from the scrape. Default 3600 s. */
  windowSeconds?: number;
  /** The sinks' roll interval (a sink is stalled after two without a file). Default 300 s. */
  rollIntervalSeconds?: number;
  /** Cloudflare is asked at most once per this many ms, whatever the scrape rate. Default 60,000. */
  cacheMs?: number;
  /**
   * Read Cloudflare on a timer this often (ms) instead of on scrape: a scrape then answers
   * at once with the last values (only the first one waits for the first read). Stop the
   * timer with the returned handle. Default: off (read on scrape, cached for `cacheMs`).
   */
  refreshIntervalMs?: number;
}

/** What {@link registerCloudflareMetrics} returns: stop its refresh timer (safe to call twice). */
export interface CloudflareMetricsHandle {
  stop(): void;
}

/**
 * Adds gauges about the Cloudflare side to a Prometheus registry (the relay's, when it is
 * given Cloudflare credentials): per pipeline, records in, written and dropped (by reason)
 * over the window, failed and stalled flags, and whether the last read failed. Values are
 * read from the REST and GraphQL APIs on scrape, cached for `cacheMs`, or on a timer
 * (`refreshIntervalMs`, as the relay does).
 */
export function registerCloudflareMetrics(
  registry: Registry,
  options: CloudflareMetricsOptions,
): CloudflareMetricsHandle {
  const windowMs = (options.windowSeconds ?? 3600) * 1000;
  const timed = options.refreshIntervalMs !== undefined;
  const cacheMs = timed ? 0 : (options.cacheMs ?? 60_000);
  let cached: { at: number; status?: CloudflareStatus; failed: boolean } | undefined;
  let inFlight: Promise<void> | undefined;

  async function refresh(): Promise<void> {
    if (cached && Date.now() - cached.at < cacheMs) return;
    inFlight ??= (async () => {
      try {
        const defs = options.defs ?? Object.values((await import('./definitions.js')).pipelines);
        const until = new Date();
        const status = await cloudflareStatus(options.api, defs, {
          since: new Date(until.getTime() - windowMs),
          until,
          rollIntervalSeconds: options.rollIntervalSeconds ?? DEFAULT_ROLL_INTERVAL,
        });
        cached = { at: Date.now(), status, failed: false };
      } catch {
        cached = { at: Date.now(), ...(cached?.status ? { status: cached.status } : {}), failed: true };
      } finally {
        inFlight = undefined;
      }
    })();
    await inFlight;
  }

  /** On scrape: read (cached) unless a timer reads; then only the first scrape waits. */
  const current = async () => {
    if (!timed || !cached) await (inFlight ?? refresh());
  };

  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (g: Gauge, s: CloudflareStatus) => void,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        await current();
        this.reset();
        if (cached?.status) fill(this, cached.status);
      },
    });

  gauge(
    'lakehouse_cloudflare_records_in',
    'Records the pipeline read from its stream in the window',
    ['pipeline'],
    (g, s) => {
      for (const p of s.pipelines) g.set({ pipeline: p.pipeline }, p.recordsIn);
    },
  );
  gauge(
    'lakehouse_cloudflare_records_written',
    'Records the sink wrote in the window',
    ['pipeline'],
    (g, s) => {
      for (const p of s.pipelines) g.set({ pipeline: p.pipeline }, p.recordsWritten);
    },
  );
  gauge(
    'lakehouse_cloudflare_records_dropped',
    'Records Cloudflare dropped after a 200 in the window (schema mismatch), by reason',
    ['pipeline', 'reason'],
    (g, s) => {
      for (const p of s.pipelines) {
        for (const [reason, n] of Object.entries(p.dropped)) g.set({ pipeline: p.pipeline, reason }, n);
      }
    },
  );
  gauge(
    'lakehouse_cloudflare_pipeline_failed',
    '1 when Cloudflare reports the pipeline failed',
    ['pipeline'],
    (g, s) => {
      for (const p of s.pipelines)
        g.set({ pipeline: p.pipeline }, p.failureReason || /fail|error/i.test(p.status) ? 1 : 0);
    },
  );
  gauge(
    'lakehouse_cloudflare_sink_stalled',
    '1 when the pipeline took records in but wrote no file',
    ['pipeline'],
    (g, s) => {
      for (const p of s.pipelines) g.set({ pipeline: p.pipeline }, p.stalled ? 1 : 0);
    },
  );
  new Gauge({
    name: 'lakehouse_cloudflare_read_failed',
    help: '1 when the last read of the Cloudflare APIs failed (the other gauges keep the previous values)',
    registers: [registry],
    async collect() {
      await current();
      this.set(cached?.failed ? 1 : 0);
    },
  });

  if (!timed) return { stop() {} };
  const timer = setInterval(() => void refresh(), Math.max(1000, options.refreshIntervalMs!));
  timer.unref();
  void refresh();
  return { stop: () => clearInterval(timer) };
}
