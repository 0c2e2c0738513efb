import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** One non-blank line of NDJSON input, with its 1-based line number. */
export interface NdjsonLine {
  line: number;
  value?: unknown;
  /** Set when the line is not valid JSON. */
  error?: string;
}

/** Reads NDJSON from a file path, or standard input for `-` / undefined. Blank lines are skipped. */
export async function* readNdjson(source: string | undefined): AsyncGenerator<NdjsonLine> {
  const input = !source || source === '-' ? process.stdin : createReadStream(source, { encoding: 'utf8' });
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (!text.trim()) continue;
    try {
      yield { line, value: JSON.parse(text) };
    } catch (e) {
      yield { line, error: `invalid JSON: ${(e as Error).message}` };
    }
  }
}
