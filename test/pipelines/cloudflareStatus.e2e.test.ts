import { describe, expect, it } from 'vitest';
import { pipelines } from '../../src/pipelines/definitions.js';
import { pipelineSql } from '../../src/pipelines/plan.js';
import { useStandInWithDb } from './support/standInWithDb.js';

const t = useStandInWithDb(import.meta.filename);
const cli = (args: string[]) => t.cli(args);

/** Deploys the orders pipeline in the stand-in and returns its id. */
function deployOrders(extra: Record<string, unknown> = {}): string {
  t.cf.seed('stream', { name: 'orders', schema: { fields: [] } });
  t.cf.seed('pipeline', { name: 'orders_events', sql: pipelineSql(pipelines.orders), ...extra });
  return t.cf.pipelines.at(-1)!.id;
}

describe('lakehouse cloudflare status against a stand-in of the GraphQL analytics API', () => {
  it('shows records dropped by Cloudflare by reason next to what the relay delivered, and exits 1', async () => {
    const id = deployOrders();
    await t.db.pool.query(
      `INSERT INTO ${t.db.schema}.delivery_log (stream, minute, events, bytes) VALUES ('orders', date_trunc('minute', now()), 120, 9000)`,
    );
    t.cf.metrics = {
      pipelinesOperatorAdaptiveGroups: [
        { sum: { recordsIn: 120, decodeErrors: 0 }, dimensions: { pipelineId: id } },
      ],
      pipelinesSinkAdaptiveGroups: [
        { sum: { recordsWritten: 113, filesWritten: 2 }, dimensions: { pipelineId: id } },
      ],
      pipelinesUserErrorsAdaptiveGroups: [
        {
          count: 5,
          dimensions: { pipelineId: id, errorFamily: 'deserialization', errorType: 'type_mismatch' },
        },
        {
          count: 2,
          dimensions: { pipelineId: id, errorFamily: 'deserialization', errorType: 'missing_field' },
        },
      ],
    };
    const r = await cli(['cloudflare', 'status', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.pipelines).toEqual([
      expect.objectContaining({
        pipeline: 'orders_events',
        status: 'running',
        recordsIn: 120,
        recordsWritten: 113,
        dropped: { type_mismatch: 5, missing_field: 2 },
        droppedTotal: 7,
        stalled: false,
        relayDelivered: 120,
      }),
    ]);
    expect(out.problems).toEqual([
      'orders_events: 7 records dropped by Cloudflare after a 200 (type_mismatch 5, missing_field 2)',
    ]);
    const text = await cli(['cloudflare', 'status']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /orders_events\s+running\s+120\s+113\s+2\s+7\s+type_mismatch=5 missing_field=2\s+120/,
    );
    expect(text.stderr).toContain('7 records dropped by Cloudflare');
  });

  it('flags a sink that took records in and wrote no file, and a failed pipeline with its reason', async () => {
    const id = deployOrders({ status: 'failed', failure_reason: 'catalog token expired' });
    t.cf.metrics = {
      pipelinesOperatorAdaptiveGroups: [{ sum: { recordsIn: 50 }, dimensions: { pipelineId: id } }],
    };
    const r = await cli(['cloudflare', 'status', '--json', '--no-relay']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.pipelines[0]).toMatchObject({
      stalled: true,
      failureReason: 'catalog token expired',
      relayDelivered: null,
    });
    expect(out.problems).toEqual([
      'orders_events: status failed: catalog token expired',
      'orders_events: took 50 records in but its sink wrote no file (stalled sink?)',
    ]);
  });

  it('exits 0 when nothing was dropped and the sinks wrote', async () => {
    const id = deployOrders();
    t.cf.metrics = {
      pipelinesOperatorAdaptiveGroups: [{ sum: { recordsIn: 10 }, dimensions: { pipelineId: id } }],
      pipelinesSinkAdaptiveGroups: [
        { sum: { recordsWritten: 10, filesWritten: 1 }, dimensions: { pipelineId: id } },
      ],
    };
    const r = await cli(['cloudflare', 'status', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).problems).toEqual([]);
  });
});
