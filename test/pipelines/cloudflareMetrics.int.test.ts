import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCloudflareApi } from '../../src/pipelines/cloudflare/api.js';
import { registerCloudflareMetrics } from '../../src/pipelines/cloudflareMetrics.js';
import { pipelines } from '../../src/pipelines/definitions.js';
import { pipelineSql } from '../../src/pipelines/plan.js';
import { type StandIn, startCloudflareStandIn } from './support/cloudflareStandIn.js';

let cf: StandIn;
beforeEach(async () => {
  cf = await startCloudflareStandIn();
});
afterEach(() => cf.close());

describe('Prometheus metrics of the Cloudflare side', () => {
  it('exports dropped records by reason, records in and written, and a stalled flag per pipeline', async () => {
    cf.seed('pipeline', { name: 'orders_events', sql: pipelineSql(pipelines.orders) });
    const id = cf.pipelines[0]!.id;
    cf.metrics = {
      pipelinesOperatorAdaptiveGroups: [{ sum: { recordsIn: 40 }, dimensions: { pipelineId: id } }],
      pipelinesSinkAdaptiveGroups: [
        { sum: { recordsWritten: 37, filesWritten: 1 }, dimensions: { pipelineId: id } },
      ],
      pipelinesUserErrorsAdaptiveGroups: [
        { count: 3, dimensions: { pipelineId: id, errorType: 'null_value' } },
      ],
    };
    const registry = new Registry();
    const api = createCloudflareApi({ token: cf.token, accountId: cf.accountId, baseUrl: cf.apiBase });
    registerCloudflareMetrics(registry, { api, cacheMs: 0 });
    const text = await registry.metrics();
    expect(text).toContain(
      'lakehouse_cloudflare_records_dropped{pipeline="orders_events",reason="null_value"} 3',
    );
    expect(text).toContain('lakehouse_cloudflare_records_in{pipeline="orders_events"} 40');
    expect(text).toContain('lakehouse_cloudflare_records_written{pipeline="orders_events"} 37');
    expect(text).toContain('lakehouse_cloudflare_sink_stalled{pipeline="orders_events"} 0');
    expect(text).toContain('lakehouse_cloudflare_read_failed 0');
  });

  it('sets read_failed when the API refuses', async () => {
    const registry = new Registry();
    const api = createCloudflareApi({ token: 'wrong', accountId: cf.accountId, baseUrl: cf.apiBase });
    registerCloudflareMetrics(registry, { api, cacheMs: 0 });
    expect(await registry.metrics()).toContain('lakehouse_cloudflare_read_failed 1');
  });
});
