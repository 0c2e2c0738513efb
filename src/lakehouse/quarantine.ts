import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic, writeFileDurable } from './fsutil.js';
import type { Segment } from './stagingLog.js';

/** A staged line the writer could not commit, and why. */
export interface BadLine {
  line: string;
  error: string;
}

/**
 * Finds the lines `probe` rejects by halving: a batch that passes holds no bad line, a single
 * line that fails is bad. `probe` resolves with the error message, or undefined when the lines
 * can be written. About 2·log2(n) probes per bad line.
 */
export async function isolateBadLines(
  lines: string[],
  probe: (lines: string[]) => Promise<string | undefined>,
): Promise<BadLine[]> {
  const error = await probe(lines);
  if (error === undefined) return [];
  if (lines.length === 1) return [{ line: lines[0]!, error }];
  const mid = Math.ceil(lines.length / 2);
  return [
    ...(await isolateBadLines(lines.slice(0, mid), probe)),
    ...(await isolateBadLines(lines.slice(mid), probe)),
  ];
}

/** The lines of staged segments, each with its segment. */
export async function readSegmentLines(segments: Segment[]): Promise<{ segment: Segment; line: string }[]> {
  const out: { segment: Segment; line: string }[] = [];
  for (const segment of segments) {
    const text = await readFile(segment.path, 'utf8');
    for (const line of text.split('\n')) if (line) out.push({ segment, line });
  }
  return out;
}

/**
 * Moves bad lines out of the staging log: first written durably to
 * `<quarantineDir>/<segment>-<time>.ndjson` as `{"error","record"}` lines, then each segment
 * is rewritten without them (atomically). A crash between the two leaves a line in both
 * places; it is quarantined again on the next try, never lost.
 */
export async function quarantineLines(
  quarantineDir: string,
  staged: { segment: Segment; line: string }[],
  bad: BadLine[],
): Promise<void> {
  if (bad.length === 0) return;
  await mkdir(quarantineDir, { recursive: true });
  const badSet = new Set(bad.map((b) => b.line));
  const first = staged.find((s) => badSet.has(s.line))!.segment.id;
  const file = join(quarantineDir, `${String(first).padStart(12, '0')}-${Date.now()}.ndjson`);
  await writeFileDurable(
    file,
    bad.map((b) => `${JSON.stringify({ error: b.error, record: b.line })}\n`).join(''),
  );
  const segments = new Set(staged.map((s) => s.segment));
  for (const segment of segments) {
    const keep = staged.filter((s) => s.segment === segment && !badSet.has(s.line)).map((s) => s.line);
    if (keep.length === segment.records) continue;
    await writeFileAtomic(segment.path, keep.map((l) => `${l}\n`).join(''));
    segment.records = keep.length;
  }
}
