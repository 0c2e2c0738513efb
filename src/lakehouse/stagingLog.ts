import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, readFile, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LakehouseError } from '../errors.js';
import { syncDir } from './fsutil.js';

export interface Segment {
  id: number;
  path: string;
  records: number;
}

const SEGMENT = /^(\d{12})\.ndjson$/;
const segmentName = (id: number) => `${String(id).padStart(12, '0')}.ndjson`;

/** Parses a complete staged line; a corrupt one stops recovery with where it is and what to do. */
function parseStagedLine(line: string, path: string, n: number): { event_id?: unknown } {
  try {
    return JSON.parse(line) as { event_id?: unknown };
  } catch (e) {
    throw new LakehouseError(
      'CONFIG',
      `corrupt staging record at ${path} line ${n} (${(e as Error).message}); the lake cannot start ` +
        'until it is repaired or removed from that file. The event it held is still in the outbox: ' +
        'it stays in the outbox until `lakehouse prune` removes it',
      { cause: e },
    );
  }
}

/**
 * The durable ingest log of one table: NDJSON segments with increasing ids. A request is
 * acknowledged only after its records are written and fdatasync'ed to the active segment.
 * Segments are closed on roll, folded into an Iceberg commit, then deleted; the commit
 * records the highest folded id in the table properties, so a crash between the commit and
 * the deletion never folds a segment twice.
 */
export class StagingLog {
  readonly dir: string;
  #nextId = 1;
  #active: { segment: Segment; fh: FileHandle } | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * Opens the log after a (possibly unclean) stop: deletes segments already folded
   * (id <= watermark), cuts a torn last line (a write that was never acknowledged) and
   * returns the remaining segments, oldest first, with their records' event ids.
   */
  async recover(watermark: number): Promise<{ segments: Segment[]; eventIds: string[] }> {
    await mkdir(this.dir, { recursive: true });
    const ids = (await readdir(this.dir))
      .map((n) => SEGMENT.exec(n)?.[1])
      .filter((x): x is string => x !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const segments: Segment[] = [];
    const eventIds: string[] = [];
    for (const id of ids) {
      const path = join(this.dir, segmentName(id));
      if (id <= watermark) {
        await unlink(path);
        continue;
      }
      const text = await readFile(path, 'utf8');
      const end = text.lastIndexOf('\n') + 1;
      if (end < text.length) await truncate(path, Buffer.byteLength(text.slice(0, end)));
      const lines = text.slice(0, end).split('\n').filter(Boolean);
      lines.forEach((l, i) => {
        eventIds.push(String(parseStagedLine(l, path, i + 1).event_id));
      });
      if (lines.length === 0) await unlink(path);
      else segments.push({ id, path, records: lines.length });
    }
    this.#nextId = Math.max(watermark, ...ids, 0) + 1;
    await syncDir(this.dir);
    return { segments, eventIds };
  }

  /** Records in the active (not yet closed) segment. */
  get activeRecords(): number {
    return this.#active?.segment.records ?? 0;
  }

  /** Appends serialized records and fsyncs them. Resolves when they are durable. */
  async append(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    if (!this.#active) {
      const id = this.#nextId++;
      const path = join(this.dir, segmentName(id));
      const fh = await open(path, 'a');
      this.#active = { segment: { id, path, records: 0 }, fh };
      await syncDir(this.dir);
    }
    const { fh, segment } = this.#active;
    await fh.write(`${lines.join('\n')}\n`);
    await fh.datasync();
    segment.records += lines.length;
  }

  /** Closes the active segment (if any) and returns it: later appends go to a new one. */
  async close(): Promise<Segment | undefined> {
    const a = this.#active;
    this.#active = undefined;
    if (!a) return undefined;
    await a.fh.close();
    return a.segment;
  }

  async remove(segments: Segment[]): Promise<void> {
    for (const s of segments) await unlink(s.path).catch(() => {});
    await syncDir(this.dir);
  }
}
