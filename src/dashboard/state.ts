import type pg from 'pg';
import { liveDataFiles } from '../lakehouse/manifests.js';
import { FILTERED_RECORDS_PROPERTY } from '../lakehouse/types.js';
import { allTables } from '../lakehouse/warehouseCatalog.js';
import { ident, toExecutor } from '../outbox/executor.js';
import { readStatus, type StreamStatus } from '../outbox/status.js';

export interface ParkedGroup {
  stream: string;
  partitionKey: string;
  events: number;
  reason: string;
  error: string;
}

export interface FailedPartition {
  stream: string;
  partitionKey: string;
  failedAt: string | null;
  blocked: boolean;
  lastError: string | null;
}

export interface LakeTableState {
  table: string;
  snapshots: number;
  files: number;
  rows: number;
  partitions: number;
  /** Records the pipeline's transform dropped (its WHERE), over the table's life. */
  filteredByTransform: number;
  lastCommit: string | null;
}

/** Events delivered in one minute to one stream (from `delivery_log`, so it survives a reload). */
export interface ThroughputPoint {
  minute: string;
  stream: string;
  events: number;
}

/** Whether a relay runs: its BullMQ workers connected now (null: Redis did not answer). */
export interface RelayState {
  workers: number | null;
}

export interface DashboardState {
  at: string;
  streams: StreamStatus[];
  /** The last hour of deliveries, per minute and stream. */
  history: ThroughputPoint[];
  relay: RelayState;
  parked: ParkedGroup[];
  failed: FailedPartition[];
  tables: LakeTableState[];
}

/** Everything the dashboard shows, read fresh: outbox status, parked/failed detail, lake tables. */
export async function readDashboardState(
  pool: pg.Pool,
  schema: string,
  warehouse: string,
  relayWorkers: () => Promise<number | null> = async () => null,
  streamNames?: readonly string[],
): Promise<DashboardState> {
  const s = ident(schema);
  const [status, parked, failed, tables, history, workers] = await Promise.all([
    readStatus(toExecutor(pool), schema, streamNames),
    pool.query<{ stream: string; partition_key: string; n: string; reason: string; error: string }>(
      `SELECT stream, partition_key, count(*) AS n, min(reason) AS reason, min(error) AS error
         FROM ${s}.parked GROUP BY stream, partition_key ORDER BY stream, partition_key LIMIT 200`,
    ),
    pool.query<{
      stream: string;
      partition_key: string;
      failed_at: Date | null;
      blocked: boolean;
      last_error: string | null;
    }>(
      // A failed batch holds its lane: every partition pending there is shown with the lane's error.
      `SELECT * FROM (
         SELECT DISTINCT l.stream, pe.partition_key, l.failed_at, false AS blocked, l.last_error
           FROM ${s}.lanes l JOIN ${s}.pending pe ON pe.stream = l.stream AND pe.lane = l.lane
          WHERE l.failed_at IS NOT NULL
         UNION ALL
         SELECT stream, partition_key, failed_at, true AS blocked, last_error
           FROM ${s}.partitions WHERE blocked_position IS NOT NULL) f
        ORDER BY stream, partition_key LIMIT 200`,
    ),
    readTables(warehouse),
    pool.query<{ minute: Date; stream: string; events: string }>(
      `SELECT minute, stream, events FROM ${s}.delivery_log
        WHERE minute >= date_trunc('minute', now()) - interval '60 minutes' ORDER BY minute, stream`,
    ),
    relayWorkers(),
  ]);
  return {
    at: new Date().toISOString(),
    streams: status.streams,
    history: history.rows.map((r) => ({
      minute: new Date(r.minute).toISOString(),
      stream: r.stream,
      events: Number(r.events),
    })),
    relay: { workers },
    parked: parked.rows.map((r) => ({
      stream: r.stream,
      partitionKey: r.partition_key,
      events: Number(r.n),
      reason: r.reason,
      error: r.error,
    })),
    failed: failed.rows.map((r) => ({
      stream: r.stream,
      partitionKey: r.partition_key,
      failedAt: r.failed_at ? new Date(r.failed_at).toISOString() : null,
      blocked: r.blocked,
      lastError: r.last_error,
    })),
    tables,
  };
}

async function readTables(warehouse: string): Promise<LakeTableState[]> {
  const out: LakeTableState[] = [];
  for (const { table, loaded } of await allTables(warehouse).catch(() => [])) {
    const md = loaded.metadata;
    const current = md.snapshots.find((x) => x['snapshot-id'] === md['current-snapshot-id']);
    const { files } = current ? await liveDataFiles(md) : { files: [] };
    out.push({
      table,
      snapshots: md.snapshots.length,
      files: files.length,
      rows: Number(current?.summary['total-records'] ?? 0),
      partitions: new Set(files.map((f) => JSON.stringify(f.partition))).size,
      filteredByTransform: Number(md.properties[FILTERED_RECORDS_PROPERTY] ?? 0),
      lastCommit: current ? new Date(current['timestamp-ms']).toISOString() : null,
    });
  }
  return out.sort((a, b) => a.table.localeCompare(b.table));
}
