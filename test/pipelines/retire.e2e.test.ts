import { describe, expect, it } from 'vitest';
import { createEvent, toLakeRecord } from '../../src/domain/envelope.js';
import { pipelines } from '../../src/pipelines/definitions.js';
import { pipelineSql } from '../../src/pipelines/plan.js';
import { streamSchema } from '../../src/pipelines/streamSchema.js';
import { order } from '../support/fixtures.js';
import { useStandInWithDb } from './support/standInWithDb.js';

const t = useStandInWithDb(import.meta.filename);
const cli = (args: string[]) => t.cli(args);
const current = () => streamSchema('orders').fields as unknown as Record<string, unknown>[];

/** Version 1 (which also required `legacy_code`) and version 2 (the current schema), both deployed. */
function deployTwoVersions(): { v1: string } {
  t.cf.seed('stream', {
    name: 'orders',
    schema: { fields: [...current(), { name: 'legacy_code', type: 'string', required: true }] },
  });
  t.cf.seed('stream', { name: 'orders_v2', schema: { fields: current() } });
  const sink = (name: string, table: string) => ({
    name,
    type: 'r2_data_catalog',
    config: { bucket: 'lake-bucket', namespace: 'lakehouse', table_name: table },
  });
  t.cf.seed('sink', sink('orders_sink', 'orders'));
  t.cf.seed('sink', sink('orders_v2_sink', 'orders_v2'));
  t.cf.seed('pipeline', { name: 'orders_events', sql: pipelineSql(pipelines.orders, 1) });
  const v1 = t.cf.pipelines.at(-1)!.id;
  t.cf.seed('pipeline', { name: 'orders_events_v2', sql: pipelineSql(pipelines.orders, 2) });
  return { v1 };
}

/** An undelivered event written by the old code (its payload has `legacy_code`). */
async function pendingOldEvent(): Promise<void> {
  const e = createEvent('orders', order('o-old'));
  const { event_id: _id, event_type: _type, ...data } = toLakeRecord(e);
  const r = await t.db.pool.query<{ position: string }>(
    `INSERT INTO ${t.db.schema}.events (event_id, stream, partition_key, event_type, tenant_id, occurred_at, schema_version, payload)
     VALUES ($1, 'orders', $2, $3, $2, now(), 1, $4) RETURNING position`,
    [e.event_id, String(data.tenant_id), e.event_type, JSON.stringify({ ...data, legacy_code: 'L1' })],
  );
  await t.db.pool.query(
    `INSERT INTO ${t.db.schema}.pending (stream, partition_key, position, lane)
     VALUES ('orders', $1, $2, ${t.db.schema}.lane_of($1, (SELECT lane_count FROM ${t.db.schema}.settings)))`,
    [String(data.tenant_id), r.rows[0]!.position],
  );
}

describe('lakehouse pipelines retire', () => {
  it('refuses to retire the newest version', async () => {
    deployTwoVersions();
    const r = await cli(['pipelines', 'retire', 'orders', '--version', '2', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('version 2 is the newest version of orders');
    expect(t.cf.streams).toHaveLength(2);
  });

  it('refuses while the relay still has undelivered events for the version, deleting nothing', async () => {
    deployTwoVersions();
    await pendingOldEvent();
    const r = await cli(['pipelines', 'retire', 'orders', '--version', '1', '--yes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('1 undelivered events of orders still route to version 1');
    expect([t.cf.streams.length, t.cf.sinks.length, t.cf.pipelines.length]).toEqual([2, 2, 2]);
  });

  it('refuses while the stream took records its sink has not written, then deletes pipeline, sink and stream once drained', async () => {
    const { v1 } = deployTwoVersions();
    t.cf.metrics = {
      pipelinesOperatorAdaptiveGroups: [{ sum: { recordsIn: 10 }, dimensions: { pipelineId: v1 } }],
      pipelinesSinkAdaptiveGroups: [
        { sum: { recordsWritten: 7, filesWritten: 1 }, dimensions: { pipelineId: v1 } },
      ],
    };
    const buffered = await cli(['pipelines', 'retire', 'orders', '--version', '1', '--yes']);
    expect(buffered.code).toBe(1);
    expect(buffered.stderr).toContain('orders_events took 3 more records than its sink wrote or dropped');
    expect(t.cf.streams).toHaveLength(2);

    t.cf.metrics.pipelinesSinkAdaptiveGroups = [
      { sum: { recordsWritten: 10, filesWritten: 2 }, dimensions: { pipelineId: v1 } },
    ];
    const dry = await cli(['pipelines', 'retire', 'orders', '--version', '1']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('would delete');
    expect(t.cf.streams).toHaveLength(2);

    const r = await cli(['pipelines', 'retire', 'orders', '--version', '1', '--yes', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).resources).toEqual([
      { kind: 'pipeline', name: 'orders_events', deleted: true },
      { kind: 'sink', name: 'orders_sink', deleted: true },
      { kind: 'stream', name: 'orders', deleted: true },
    ]);
    expect(t.cf.streams.map((s) => s.name)).toEqual(['orders_v2']);
    expect(t.cf.pipelines.map((p) => p.name)).toEqual(['orders_events_v2']);
  });
});
