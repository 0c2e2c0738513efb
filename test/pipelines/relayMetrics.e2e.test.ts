import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pipelines } from '../../src/pipelines/definitions.js';
import { pipelineSql } from '../../src/pipelines/plan.js';
import { until } from '../lakehouse/support.js';
import { type CliProcess, startCli } from '../support/cli.js';
import { createTestDb, type TestDb } from '../support/db.js';
import { type StandIn, startCloudflareStandIn } from './support/cloudflareStandIn.js';

let db: TestDb;
let cf: StandIn;
let relay: CliProcess | undefined;
beforeAll(async () => {
  db = await createTestDb(import.meta.filename);
});
afterAll(async () => {
  await db?.close();
});
beforeEach(async () => {
  cf = await startCloudflareStandIn();
});
afterEach(async () => {
  if (relay) expect(await relay.kill('SIGTERM')).toBe(0);
  relay = undefined;
  await cf.close();
});

const dropped = (id: string, n: number) => ({
  pipelinesOperatorAdaptiveGroups: [{ sum: { recordsIn: 40 }, dimensions: { pipelineId: id } }],
  pipelinesSinkAdaptiveGroups: [
    { sum: { recordsWritten: 40 - n, filesWritten: 1 }, dimensions: { pipelineId: id } },
  ],
  pipelinesUserErrorsAdaptiveGroups: [{ count: n, dimensions: { pipelineId: id, errorType: 'null_value' } }],
});

/** Starts `lakehouse relay --metrics-port 0` and returns its /metrics URL once it is listening. */
async function startRelay(env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  relay = startCli(['relay', '--metrics-port', '0', ...args], env);
  const p = relay;
  return until('the relay to serve /metrics', async () => /metrics at (\S+)/.exec(p.stderr())?.[1], 30_000);
}

const scrape = async (url: string) => (await fetch(url)).text();
const cloudflareCalls = () =>
  cf.server.requests.filter((r) => r.url.includes('/graphql') || r.url.includes('/pipelines/v1/'));

describe("the relay's /metrics and Cloudflare", () => {
  it('exports the Cloudflare gauges when CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID are set, refreshed on the interval', async () => {
    cf.seed('pipeline', { name: 'orders_events', sql: pipelineSql(pipelines.orders) });
    const id = cf.pipelines[0]!.id;
    cf.metrics = dropped(id, 3);
    const url = await startRelay(
      {
        ...db.env,
        CLOUDFLARE_API_TOKEN: cf.token,
        CLOUDFLARE_ACCOUNT_ID: cf.accountId,
        CLOUDFLARE_API_BASE_URL: cf.apiBase,
      },
      '--cloudflare-metrics-interval',
      '1s',
    );
    const line = (n: number) =>
      `lakehouse_cloudflare_records_dropped{pipeline="orders_events",reason="null_value"} ${n}`;
    await until('the gauges', async () => ((await scrape(url)).includes(line(3)) ? true : undefined), 20_000);
    const text = await scrape(url);
    expect(text).toContain('lakehouse_cloudflare_read_failed 0');
    expect(text).toContain('lakehouse_relay_events_delivered_total');
    // Cloudflare's figures change; the timer reads them again without being asked.
    cf.metrics = dropped(id, 5);
    await until(
      'the next read',
      async () => ((await scrape(url)).includes(line(5)) ? true : undefined),
      20_000,
    );
  });

  it('without Cloudflare credentials registers no Cloudflare gauge and never calls Cloudflare', async () => {
    const url = await startRelay(
      {
        ...db.env,
        CLOUDFLARE_ACCOUNT_ID: cf.accountId,
        CLOUDFLARE_API_BASE_URL: cf.apiBase,
        CLOUDFLARE_API_TOKEN: '',
      },
      '--cloudflare-metrics-interval',
      '1s',
    );
    const heartbeat = async () =>
      Number(/^lakehouse_relay_heartbeat_timestamp_seconds (\S+)$/m.exec(await scrape(url))?.[1] ?? 0);
    const first = await until('a heartbeat', async () => (await heartbeat()) || undefined, 20_000);
    // Longer than two refresh intervals of the relay's own clock, with nothing read from Cloudflare.
    await until(
      '2.5 s of relay heartbeats',
      async () => ((await heartbeat()) - first >= 2.5 ? true : undefined),
      20_000,
    );
    expect(await scrape(url)).not.toContain('lakehouse_cloudflare_');
    expect(cloudflareCalls()).toEqual([]);
  });
});
