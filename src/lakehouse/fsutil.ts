import { randomUUID } from 'node:crypto';
import { link, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes a file and fsyncs it (and its directory), so it survives a crash once this resolves. */
export async function writeFileDurable(path: string, data: Buffer | string): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await syncDir(dirname(path));
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename/link is then as durable as it gets.
  } finally {
    await fh.close();
  }
}

/** Replaces `path` atomically: readers see the old or the new content, never a mix. */
export async function writeFileAtomic(path: string, data: Buffer | string): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFileDurable(tmp, data);
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/**
 * Creates `path` with `data` only if it does not exist yet (a hard link of a fully written
 * temp file fails with EEXIST when another writer got there first): the compare-and-swap
 * of a metadata version. Returns false when the file already existed.
 */
export async function createFileExclusive(path: string, data: Buffer | string): Promise<boolean> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFileDurable(tmp, data);
  try {
    await link(tmp, path);
    await syncDir(dirname(path));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
