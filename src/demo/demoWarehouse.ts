import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The file that marks a warehouse as the demo's, naming the world whose data it holds. */
const MARKER = 'demo-world.json';

/** `empty` (or missing), `demo` (with the world it holds), or `foreign` (data the demo did not write). */
export type DemoWarehouseState = { kind: 'empty' } | { kind: 'demo'; worldId: string } | { kind: 'foreign' };

export async function inspectDemoWarehouse(dir: string): Promise<DemoWarehouseState> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'empty' };
    throw e;
  }
  if (entries.length === 0) return { kind: 'empty' };
  try {
    const m = JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as { worldId?: unknown };
    if (typeof m.worldId === 'string') return { kind: 'demo', worldId: m.worldId };
  } catch {
    // No (readable) marker: not a warehouse the demo wrote.
  }
  return { kind: 'foreign' };
}

/** Empties a demo warehouse (never one without the marker) and marks it for `worldId`. */
export async function resetDemoWarehouse(dir: string, worldId: string): Promise<void> {
  const state = await inspectDemoWarehouse(dir);
  if (state.kind === 'foreign') throw new Error(`refusing to empty ${dir}: it is not a demo warehouse`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MARKER), `${JSON.stringify({ worldId })}\n`);
}
