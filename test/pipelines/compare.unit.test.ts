import { describe, expect, it } from 'vitest';
import { pipelineDifferences, sinkDifferences, streamDifferences } from '../../src/pipelines/compare.js';
import { pipelines } from '../../src/pipelines/definitions.js';
import { tablesOfVersions } from '../../src/pipelines/deployedTables.js';
import { buildPlan } from '../../src/pipelines/plan.js';
import { versionNames, versionOfName } from '../../src/pipelines/versions.js';

const [orders] = buildPlan([pipelines.orders]);
const fields = () => orders!.requests.stream.schema.fields.map((f) => ({ ...f }));

describe('drift detection names each differing field', () => {
  it('an identical deployed schema (other field order, extra API keys) is no drift', () => {
    const deployed = fields()
      .reverse()
      .map((f) => ({ ...f, sql_name: f.name, metadata_key: null }));
    expect(
      streamDifferences(orders!.requests.stream, {
        id: 'x',
        name: 'orders',
        schema: { fields: deployed as never },
      }),
    ).toEqual([]);
  });

  it('an added, a removed and a retyped field are each reported', () => {
    const deployed = fields()
      .filter((f) => f.name !== 'status')
      .map((f) => (f.name === 'item_count' ? { ...f, type: 'int32' as const } : f));
    deployed.push({ name: 'legacy', type: 'string', required: false });
    expect(
      streamDifferences(orders!.requests.stream, { id: 'x', name: 'orders', schema: { fields: deployed } }),
    ).toEqual([
      'field "status": added (string required)',
      'field "item_count": int64 required, deployed int32 required',
      'field "legacy": removed (deployed string optional)',
    ]);
  });

  it('a sink on another bucket or table, and SQL that differs beyond white space, are drift', () => {
    const want = { ...orders!.requests.sink, config: { ...orders!.requests.sink.config, bucket: 'lake' } };
    const have = {
      id: 's',
      name: 'orders_sink',
      type: 'r2_data_catalog',
      config: { bucket: 'other', table_name: 'orders', namespace: 'lakehouse' },
    };
    expect(sinkDifferences(want, have)).toEqual(['bucket: lake, deployed other']);
    const sql = orders!.requests.pipeline.sql;
    expect(
      pipelineDifferences(sql, { id: 'p', name: 'orders_events', sql: `  ${sql.replaceAll('\n', '\n   ')}` }),
    ).toEqual([]);
    expect(
      pipelineDifferences(sql, { id: 'p', name: 'orders_events', sql: sql.replace('> 0', '>= 0') }),
    ).toHaveLength(1);
  });
});

describe('versioned names', () => {
  it('version 1 keeps the plain names, version N appends _vN, and names map back to their version', () => {
    expect(versionNames(pipelines.orders, 1)).toEqual({
      version: 1,
      stream: 'orders',
      sink: 'orders_sink',
      pipeline: 'orders_events',
      table: 'orders',
    });
    expect(versionNames(pipelines.orders, 3)).toEqual({
      version: 3,
      stream: 'orders_v3',
      sink: 'orders_v3_sink',
      pipeline: 'orders_events_v3',
      table: 'orders_v3',
    });
    expect(versionOfName(pipelines.orders, 'sink', 'orders_v3_sink')).toBe(3);
    expect(versionOfName(pipelines.orders, 'stream', 'orders_vx')).toBeUndefined();
    expect(versionOfName(pipelines.orders, 'stream', 'orders_v1')).toBeUndefined();
    expect(tablesOfVersions(pipelines.orders, [1, 2])).toEqual(['lakehouse.orders', 'lakehouse.orders_v2']);
  });
});
