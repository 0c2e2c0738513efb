import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LakehouseError } from '../errors.js';

/** Who holds a warehouse: written into `<warehouse>/.lock` by the holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** `serve`, `demo`, `compact`, ... */
  command: string;
  startedAt: string;
  /** Linux boot id: a pid recorded before a reboot names no live holder, whatever runs under it now. */
  bootId?: string;
  /** Set by a server once it listens: maintenance commands run through it. */
  url?: string;
  /** Proves to the server that a maintenance request comes from someone who can read the lock file. */
  secret?: string;
}

/** The exclusive right to write a warehouse, held until {@link WarehouseLock.release}. */
export interface WarehouseLock {
  readonly holder: LockHolder;
  /** Records the server's URL in the lock file (and a secret for maintenance requests). */
  advertise(url: string): Promise<void>;
  /** Removes the lock file. Safe to call twice. */
  release(): Promise<void>;
}

/** Another live process writes the warehouse; `holder` says which. */
export class WarehouseLockedError extends LakehouseError {
  readonly holder: LockHolder;
  constructor(warehouse: string, holder: LockHolder) {
    super(
      'WAREHOUSE_LOCKED',
      `the warehouse ${warehouse} is in use by "lakehouse ${holder.command}" (pid ${holder.pid} on ${holder.host}` +
        `${holder.url ? `, ${holder.url}` : ''}, since ${holder.startedAt}): one writer per warehouse. ` +
        `Stop it, or use another --warehouse (if no such process runs, delete ${lockPath(warehouse)}).`,
    );
    this.name = 'WarehouseLockedError';
    this.holder = holder;
  }
}

const LOCK_FILE = '.lock';
/** A takeover guard older than this was left by a crash in the middle of a takeover. */
const TAKEOVER_STALE_MS = 10_000;

export const lockPath = (warehouse: string) => join(warehouse, LOCK_FILE);

let bootIdCache: string | undefined | null = null;
function bootId(): string | undefined {
  if (bootIdCache === null) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      bootIdCache = undefined;
    }
  }
  return bootIdCache;
}

function alive(holder: LockHolder): boolean {
  // A holder on another machine (a shared file system) cannot be checked: assume it lives.
  if (holder.host !== hostname()) return true;
  if (holder.bootId && bootId() && holder.bootId !== bootId()) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const h = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return typeof h?.pid === 'number' && typeof h.host === 'string' ? h : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Torn or foreign content: treat as a dead holder (the pid cannot be alive).
    return { pid: -1, host: hostname(), command: 'unknown', startedAt: 'unknown' };
  }
}

/** The live holder of a warehouse, if any (a lock left by a dead process does not count). */
export async function lockHolder(warehouse: string): Promise<LockHolder | undefined> {
  const h = await readHolder(lockPath(warehouse));
  return h && alive(h) ? h : undefined;
}

/** Who holds a warehouse's lock file, if anyone, and whether that process still runs. */
export type LockState =
  | { state: 'free' }
  | { state: 'held'; holder: LockHolder }
  /** A lock file left by a process that no longer runs (the next writer takes it over). */
  | { state: 'stale'; holder: LockHolder };

/** Reads the lock file of a warehouse without taking it (for `lakehouse doctor`). */
export async function readLockState(warehouse: string): Promise<LockState> {
  const h = await readHolder(lockPath(warehouse));
  if (!h) return { state: 'free' };
  return { state: alive(h) ? 'held' : 'stale', holder: h };
}

async function createExclusive(path: string, holder: LockHolder): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.writeFile(JSON.stringify(holder));
      await fh.sync();
    } finally {
      await fh.close();
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Removes the lock file of a dead holder. Two starters may both see it dead: a takeover guard
 * (created exclusively) makes sure only one of them removes it, so neither can remove the lock
 * the other has just taken.
 */
async function removeStale(path: string, stale: LockHolder): Promise<void> {
  const guard = `${path}.takeover`;
  const at = await stat(guard).catch(() => undefined);
  if (at && Date.now() - at.mtimeMs > TAKEOVER_STALE_MS) await unlink(guard).catch(() => {});
  if (!(await createExclusive(guard, stale))) return; // someone else is taking over: retry
  try {
    const now = await readHolder(path);
    if (now && now.pid === stale.pid && now.startedAt === stale.startedAt) await unlink(path).catch(() => {});
  } finally {
    await unlink(guard).catch(() => {});
  }
}

/**
 * Takes the exclusive write lock of a warehouse before anything in it is touched: a lock file
 * created with O_EXCL holding the holder's pid and host. A lock whose process is dead (same
 * host) is taken over; a live one fails at once with {@link WarehouseLockedError}.
 */
export async function acquireWarehouseLock(warehouse: string, command: string): Promise<WarehouseLock> {
  await mkdir(warehouse, { recursive: true });
  const path = lockPath(warehouse);
  let holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    command,
    startedAt: new Date().toISOString(),
    ...(bootId() ? { bootId: bootId() } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    if (await createExclusive(path, holder)) break;
    const other = await readHolder(path);
    if (other && alive(other)) throw new WarehouseLockedError(warehouse, other);
    if (attempt >= 20) throw new WarehouseLockedError(warehouse, other ?? holder);
    if (other) await removeStale(path, other);
    else await new Promise((r) => setTimeout(r, 10)); // being written or removed right now
  }
  let released = false;
  return {
    get holder() {
      return holder;
    },
    async advertise(url) {
      holder = { ...holder, url, secret: randomBytes(24).toString('hex') };
      // Readable by the owner only: the secret lets maintenance commands act through the server.
      const tmp = `${path}.${process.pid}.tmp`;
      await unlink(tmp).catch(() => {});
      if (!(await createExclusive(tmp, holder))) throw new Error(`cannot write ${tmp}`);
      await rename(tmp, path);
    },
    async release() {
      if (released) return;
      released = true;
      const now = await readHolder(path);
      if (now?.pid === holder.pid && now.startedAt === holder.startedAt) await unlink(path).catch(() => {});
    },
  };
}
