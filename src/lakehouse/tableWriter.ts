import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { PipelineDefinition } from '../pipelines/types.js';
import { addColumns } from './addColumns.js';
import { commitSnapshot, commitWithRetry } from './commitSnapshot.js';
import { liveDataFiles, readManifestList } from './manifests.js';
import { fromFileUri, type TablePaths, tablePaths } from './paths.js';
import { isolateBadLines, quarantineLines, readSegmentLines } from './quarantine.js';
import { createSerializer } from './serialize.js';
import { type Segment, StagingLog } from './stagingLog.js';
import {
  commitMetadata,
  currentFields,
  defaultSpec,
  type LoadedTable,
  loadTable,
  newTableMetadata,
} from './tableMetadata.js';
import { deriveTableSchema, sourceRelation, sqlString, transformOver } from './tableSchema.js';
import { FILTERED_RECORDS_PROPERTY, STAGING_WATERMARK_PROPERTY } from './types.js';
import { writeDataFiles } from './writeDataFiles.js';

export interface TableWriterOptions {
  warehouse: string;
  definition: PipelineDefinition;
  duck: DuckDBInstance;
  rollRecords: number;
  dedupe: boolean;
  onError: (e: unknown, what: string) => void;
}

/** A staged record: the JSON line as written, and its event id. */
export interface StagedRecord {
  eventId: string;
  line: string;
}

/**
 * Creates the table of a pipeline if it has no metadata yet (v1: schema, spec, no
 * snapshot); for an existing table, adds the columns the transform now produces and the
 * table lacks (a field added to the stream), as optional columns through the metadata
 * (`addColumns`): files written before read them as null.
 */
export async function ensureTable(duck: DuckDBInstance, warehouse: string, def: PipelineDefinition) {
  const paths = tablePaths(warehouse, def.destination.namespace, def.destination.table);
  const existing = await loadTable(paths);
  const conn = await duck.connect();
  try {
    const { fields, spec } = await deriveTableSchema(conn, def);
    if (existing) {
      const have = new Set(currentFields(existing.metadata).map((f) => f.name));
      const missing = fields.filter((f) => !have.has(f.name));
      if (missing.length === 0) return { paths, loaded: existing };
      const { table } = await addColumns(paths, missing);
      return { paths, loaded: table };
    }
    const md = newTableMetadata(paths, fields, spec, {
      'lakehouse.pipeline': def.name,
      'lakehouse.stream': def.stream,
    });
    const created = await commitMetadata(paths, undefined, md);
    return { paths, loaded: created ?? (await loadTable(paths))! };
  } finally {
    conn.closeSync();
  }
}

/**
 * The one writer of a table in this process: appends acknowledged records to the staging
 * log (deduplicating on `event_id`), and folds closed segments into Iceberg commits.
 * Appends are serialized so the dedupe check and the append are one step; commits are
 * serialized so exactly one commit of this table is in flight at a time.
 */
export class TableWriter {
  readonly definition: PipelineDefinition;
  readonly paths: TablePaths;
  readonly #opts: TableWriterOptions;
  readonly #log: StagingLog;
  readonly #appendLock = createSerializer();
  readonly #commitLock = createSerializer();
  readonly #eventIds = new Set<string>();
  #closed: Segment[] = [];
  #dedupeColumn = false;

  constructor(opts: TableWriterOptions) {
    this.#opts = opts;
    this.definition = opts.definition;
    this.paths = tablePaths(
      opts.warehouse,
      opts.definition.destination.namespace,
      opts.definition.destination.table,
    );
    this.#log = new StagingLog(this.paths.stagingDir);
  }

  /** Creates the table if needed, recovers the staging log and folds what a crash left staged. */
  async open(): Promise<void> {
    const { loaded } = await ensureTable(this.#opts.duck, this.#opts.warehouse, this.definition);
    const watermark = Number(loaded.metadata.properties[STAGING_WATERMARK_PROPERTY] ?? 0);
    const { segments, eventIds } = await this.#log.recover(watermark);
    this.#closed = segments;
    const fields = loaded.metadata.schemas.find(
      (s) => s['schema-id'] === loaded.metadata['current-schema-id'],
    )!.fields;
    this.#dedupeColumn = fields.some((f) => f.name === 'event_id');
    if (this.#opts.dedupe) {
      for (const id of eventIds) this.#eventIds.add(id);
      if (this.#dedupeColumn) await this.#loadCommittedIds(loaded.metadata);
    }
    // Staged data never stops a start: what cannot be committed now stays staged (or is quarantined).
    await this.flush().catch((e) => this.#opts.onError(e, `commit of ${this.paths.table} at start`));
  }

  async #loadCommittedIds(metadata: Parameters<typeof liveDataFiles>[0]): Promise<void> {
    const { files } = await liveDataFiles(metadata);
    if (files.length === 0) return;
    const conn = await this.#opts.duck.connect();
    try {
      const list = files.map((f) => sqlString(fromFileUri(f.path))).join(', ');
      const reader = await conn.runAndReadAll(
        `SELECT event_id FROM read_parquet([${list}], hive_partitioning = false)`,
      );
      for (const row of reader.getRows()) this.#eventIds.add(String(row[0]));
    } finally {
      conn.closeSync();
    }
  }

  /** Records the transform dropped, over the table's life (a table property). */
  async filteredTotal(): Promise<number> {
    const t = await loadTable(this.paths);
    return Number(t?.metadata.properties[FILTERED_RECORDS_PROPERTY] ?? 0);
  }

  /** Number of records staged and not yet committed. */
  get pending(): number {
    return this.#log.activeRecords + this.#closed.reduce((n, s) => n + s.records, 0);
  }

  /**
   * Stages records durably. Records whose `event_id` the table already has (committed or
   * staged), or that repeat within the batch, are dropped. Resolves once the new ones are
   * fsynced; returns how many were new.
   */
  append(records: StagedRecord[]): Promise<number> {
    return this.#appendLock(async () => {
      let fresh = records;
      if (this.#opts.dedupe) {
        const seen = new Set<string>();
        fresh = records.filter((r) => {
          if (this.#eventIds.has(r.eventId) || seen.has(r.eventId)) return false;
          seen.add(r.eventId);
          return true;
        });
      }
      await this.#log.append(fresh.map((r) => r.line));
      if (this.#opts.dedupe) for (const r of fresh) this.#eventIds.add(r.eventId);
      if (this.#log.activeRecords >= this.#opts.rollRecords) {
        this.flush().catch((e) => this.#opts.onError(e, `commit of ${this.paths.table}`));
      }
      return fresh.length;
    });
  }

  /** Runs `fn` between two commits of this table (maintenance: compaction, expiration). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#commitLock(fn);
  }

  /** Closes the active segment and commits every closed segment to the Iceberg table. */
  flush(): Promise<void> {
    return this.#commitLock(async () => {
      const seg = await this.#appendLock(() => this.#log.close());
      if (seg) this.#closed.push(seg);
      if (this.#closed.length === 0) return;
      const segments = [...this.#closed];
      try {
        await this.#fold(segments);
      } catch (e) {
        // A commit that fails because of some records must not block the table: move them
        // to the quarantine and commit the rest. A failure no record explains is rethrown.
        if (!(await this.#quarantine(segments))) throw e;
        await this.#fold(segments);
      }
      await this.#log.remove(segments);
      this.#closed = this.#closed.filter((s) => !segments.includes(s));
    });
  }

  /** Runs the transform over staged files and writes Parquet files under `dataDir`. */
  async #writeFiles(conn: DuckDBConnection, staged: string[], base: LoadedTable, dataDir: string) {
    await conn.run("SET TimeZone = 'UTC'");
    await conn.run(
      `CREATE OR REPLACE TEMP VIEW source AS SELECT * FROM ${sourceRelation(this.definition, staged)}`,
    );
    const md = base.metadata;
    const fields = currentFields(md);
    const spec = defaultSpec(md);
    return writeDataFiles(conn, { relation: transformOver(this.definition), dataDir, fields, spec });
  }

  /**
   * A dry run of a commit of `lines` into a scratch directory (data files, manifest, manifest
   * list, metadata): the error message if it fails, undefined if these lines can be committed.
   */
  async #probe(lines: string[]): Promise<string | undefined> {
    const dir = join(this.paths.stagingDir, `.probe-${randomUUID()}`);
    const conn = await this.#opts.duck.connect();
    try {
      await mkdir(join(dir, 'metadata'), { recursive: true });
      const file = join(dir, 'records.ndjson');
      await writeFile(file, lines.map((l) => `${l}\n`).join(''));
      const base = (await loadTable(this.paths))!;
      const scratch = { ...this.paths, dataDir: join(dir, 'data'), metadataDir: join(dir, 'metadata') };
      const files = await this.#writeFiles(conn, [file], base, scratch.dataDir);
      await commitSnapshot(scratch, base, {
        operation: 'append',
        keepManifests: [],
        entries: files.map((f) => ({ status: 1 as const, file: f })),
      });
      return undefined;
    } catch (e) {
      return (e as Error).message ?? String(e);
    } finally {
      conn.closeSync();
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Isolates the staged records that cannot be committed into the quarantine; true if there were any. */
  async #quarantine(segments: Segment[]): Promise<boolean> {
    // A control: if even no records cannot be committed, the failure is not the records' fault.
    if ((await this.#probe([])) !== undefined) return false;
    const staged = await readSegmentLines(segments);
    const bad = await isolateBadLines(
      staged.map((s) => s.line),
      (lines) => this.#probe(lines),
    );
    if (bad.length === 0) return false;
    const dir = join(dirname(dirname(this.paths.stagingDir)), '_quarantine', basename(this.paths.stagingDir));
    await quarantineLines(dir, staged, bad);
    for (const b of bad) {
      try {
        // A corrected record sent again with the same event_id must not be dropped as a duplicate.
        this.#eventIds.delete(String((JSON.parse(b.line) as { event_id?: unknown }).event_id));
      } catch {
        // not JSON: it had no event id to forget
      }
    }
    this.#opts.onError(
      new Error(
        `${bad.length} staged record(s) could not be committed and were quarantined in ${dir}: ${bad[0]!.error}`,
      ),
      `commit of ${this.paths.table}`,
    );
    return true;
  }

  async #fold(segments: Segment[]): Promise<void> {
    const watermark = Math.max(...segments.map((s) => s.id));
    const conn = await this.#opts.duck.connect();
    try {
      const base = (await loadTable(this.paths))!;
      const files = await this.#writeFiles(
        conn,
        segments.map((s) => s.path),
        base,
        this.paths.dataDir,
      );
      const staged = segments.reduce((n, s) => n + s.records, 0);
      const filtered = staged - files.reduce((n, f) => n + f.recordCount, 0);
      // The transform kept nothing and dropped nothing (empty segments): deleting them is enough.
      if (files.length === 0 && filtered === 0) return;
      await commitWithRetry(this.paths, async (latest) => {
        if (Number(latest.metadata.properties[STAGING_WATERMARK_PROPERTY] ?? 0) >= watermark)
          return undefined;
        const current = latest.metadata.snapshots.find(
          (s) => s['snapshot-id'] === latest.metadata['current-snapshot-id'],
        );
        const manifests = current ? await readManifestList(current['manifest-list']) : [];
        return {
          operation: 'append',
          keepManifests: manifests,
          entries: files.map((file) => ({ status: 1 as const, file })),
          summary: {
            'lakehouse.staging-segments': `${segments[0]!.id}-${watermark}`,
            'lakehouse.staging-records': String(staged),
          },
          properties: {
            [STAGING_WATERMARK_PROPERTY]: String(watermark),
            // Records the pipeline's transform dropped (its WHERE), counted so the loss is visible.
            [FILTERED_RECORDS_PROPERTY]: String(
              Number(latest.metadata.properties[FILTERED_RECORDS_PROPERTY] ?? 0) + filtered,
            ),
          },
        };
      });
    } finally {
      conn.closeSync();
    }
  }
}
