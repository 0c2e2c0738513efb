import { pino } from 'pino';
import { expect } from 'vitest';
import { commitSnapshot } from '../../src/lakehouse/commitSnapshot.js';
import { liveDataFiles } from '../../src/lakehouse/manifests.js';
import { tablePaths } from '../../src/lakehouse/paths.js';
import { loadTable } from '../../src/lakehouse/tableMetadata.js';
import type { DataFile } from '../../src/lakehouse/types.js';
import type { RelayOptions } from '../../src/relay/options.js';
import { createRelay } from '../../src/relay/relay.js';
import type { Sink } from '../../src/relay/sink.js';
import { until } from '../lakehouse/support.js';
import type { TestDb } from '../support/db.js';

/** Runs a relay of `db`'s outbox into `sink` until nothing is pending or in flight, then stops it. */
export async function relayUntilDelivered(
  db: TestDb,
  sink: Sink,
  options: Partial<RelayOptions> = {},
  timeoutMs = 60_000,
): Promise<void> {
  const relay = createRelay({
    databaseUrl: db.databaseUrl,
    redisUrl: db.redisUrl,
    schema: db.schema,
    sink,
    sweepIntervalMs: 200,
    logger: pino({ level: 'silent' }),
    ...options,
  });
  await relay.start();
  try {
    await until(
      'the relay to deliver everything',
      async () => {
        const st = await db.outbox.status(db.pool);
        return st.streams.every((x) => x.pending === 0 && x.inFlight === 0) ? true : undefined;
      },
      timeoutMs,
    );
  } finally {
    await relay.stop();
  }
}

/**
 * Takes one data file of `lakehouse.orders` whose partition `which` accepts out of the table
 * (an Iceberg delete commit), as a lost lake file would; returns the file.
 */
export async function dropOneOrdersFile(
  warehouse: string,
  which: (partition: DataFile['partition']) => boolean,
): Promise<DataFile> {
  const paths = tablePaths(warehouse, 'lakehouse', 'orders');
  const base = (await loadTable(paths))!;
  const { files } = await liveDataFiles(base.metadata);
  const victim = files.find((f) => which(f.partition));
  expect(victim).toBeDefined();
  const done = await commitSnapshot(paths, base, {
    operation: 'delete',
    keepManifests: [],
    entries: files.map((file) => ({
      status: file.path === victim!.path ? (2 as const) : (0 as const),
      snapshotId: file.snapshotId,
      sequenceNumber: file.sequenceNumber,
      fileSequenceNumber: file.fileSequenceNumber,
      file,
    })),
  });
  expect(done).toBeDefined();
  return victim!;
}
