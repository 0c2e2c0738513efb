import { z } from 'zod';
import { LakehouseError } from '../errors.js';
import type { Catalog } from './defineCatalog.js';
import type { LakeColumnType } from './lakeColumn.js';

/** Version of the snapshot file format; a newer file is refused rather than misread. */
export const SNAPSHOT_FORMAT_VERSION = 1;

/** One field as deployed. */
export interface SnapshotField {
  name: string;
  type: LakeColumnType;
  nullable: boolean;
  values?: string[];
}

/** One stream as deployed. */
export interface SnapshotStream {
  schemaVersion: number;
  partitionKey: string;
  timeField: string;
  lake: { table: string; partition: string[] };
  fields: SnapshotField[];
}

/**
 * What was deployed, committed to the user's repository (like drizzle-kit's snapshots):
 * the catalog's streams with their lake columns. No timestamps, so an unchanged catalog
 * writes an identical file.
 */
export interface SchemaSnapshot {
  format: 'lakehouse-schema-snapshot';
  formatVersion: number;
  streams: Record<string, SnapshotStream>;
}

/** The snapshot of a catalog as it is now. */
export function snapshotOf(catalog: Catalog): SchemaSnapshot {
  const streams: Record<string, SnapshotStream> = {};
  for (const name of catalog.names) {
    const s = catalog.get(name);
    if (!s) continue;
    streams[name] = {
      schemaVersion: s.schemaVersion,
      partitionKey: s.partitionKey,
      timeField: s.timeField,
      lake: { table: s.lake.table, partition: [...s.lake.partition] },
      fields: Object.entries(s.columns).map(([field, c]) => ({ name: field, ...c })),
    };
  }
  return { format: 'lakehouse-schema-snapshot', formatVersion: SNAPSHOT_FORMAT_VERSION, streams };
}

const fileShape = z.object({
  format: z.literal('lakehouse-schema-snapshot'),
  formatVersion: z.number().int().positive(),
  streams: z.record(
    z.string(),
    z.object({
      schemaVersion: z.number().int(),
      partitionKey: z.string(),
      timeField: z.string(),
      lake: z.object({ table: z.string(), partition: z.array(z.string()) }),
      fields: z.array(
        z.object({
          name: z.string(),
          type: z.string(),
          nullable: z.boolean(),
          values: z.array(z.string()).optional(),
        }),
      ),
    }),
  ),
});

/**
 * Reads a snapshot file's text. Throws a `LakehouseError` (code `CONFIG`) naming the file
 * for text that is not a snapshot, and for a format version newer than this package reads.
 */
export function parseSnapshot(text: string, file: string): SchemaSnapshot {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new LakehouseError('CONFIG', `snapshot ${file}: not JSON (${(e as Error).message})`);
  }
  const parsed = fileShape.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LakehouseError(
      'CONFIG',
      `snapshot ${file}: ${issue?.path.join('.') || 'file'}: ${issue?.message}`,
    );
  }
  if (parsed.data.formatVersion > SNAPSHOT_FORMAT_VERSION) {
    throw new LakehouseError(
      'CONFIG',
      `snapshot ${file}: format version ${parsed.data.formatVersion} is newer than this lakehouse reads ` +
        `(${SNAPSHOT_FORMAT_VERSION}); upgrade @company-manager/lakehouse`,
    );
  }
  return parsed.data as SchemaSnapshot;
}
