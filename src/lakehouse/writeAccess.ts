import { resolve } from 'node:path';
import { LakehouseError } from '../errors.js';
import { acquireWarehouseLock, type LockHolder, lockHolder, WarehouseLockedError } from './warehouseLock.js';

/**
 * Runs `fn` while no commit of `table` is in flight in the warehouse's writer, so a
 * maintenance commit never races an ingest commit.
 */
export type TableGate = <T>(table: string, fn: () => Promise<T>) => Promise<T>;

const direct: TableGate = (_table, fn) => fn();

/** The writers (ingestors) running in this process, by warehouse. */
const writers = new Map<string, TableGate>();

/** Registers this process's writer of a warehouse; returns the function that unregisters it. */
export function registerWriter(warehouse: string, gate: TableGate): () => void {
  const key = resolve(warehouse);
  writers.set(key, gate);
  return () => {
    if (writers.get(key) === gate) writers.delete(key);
  };
}

/** The header a maintenance request carries: the secret from the lock file. */
export const MAINTENANCE_HEADER = 'x-lakehouse-maintenance';

async function callServer<T>(holder: LockHolder, operation: string, body: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${holder.url}/maintenance/${operation}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [MAINTENANCE_HEADER]: holder.secret ?? '' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new LakehouseError(
      'WAREHOUSE_LOCKED',
      `the warehouse is held by "lakehouse ${holder.command}" (pid ${holder.pid}) at ${holder.url}, ` +
        `which does not answer: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const answer = (await res.json().catch(() => ({}))) as { tables?: T; error?: { message?: string } };
  if (!res.ok || answer.tables === undefined) {
    throw new Error(`${operation} through ${holder.url} failed: ${answer.error?.message ?? res.status}`);
  }
  return answer.tables;
}

/**
 * Runs a maintenance operation with the right to write the warehouse, whoever holds it: the
 * writer of this process (commits gated per table), else the warehouse lock taken for the
 * duration, else the server that holds the lock (a request to its `/maintenance/` route).
 * The server answers `{"tables": T}`. Another holder that is not a server fails with {@link WarehouseLockedError}.
 */
export async function withWriteAccess<T>(
  warehouse: string,
  operation: string,
  local: (gate: TableGate) => Promise<T>,
  remoteBody: unknown,
): Promise<T> {
  const gate = writers.get(resolve(warehouse));
  if (gate) return local(gate);
  let lock: Awaited<ReturnType<typeof acquireWarehouseLock>>;
  try {
    lock = await acquireWarehouseLock(warehouse, operation);
  } catch (e) {
    if (!(e instanceof WarehouseLockedError)) throw e;
    const holder = await lockHolder(warehouse);
    if (!holder?.url || !holder.secret) throw e;
    return callServer<T>(holder, operation, remoteBody);
  }
  try {
    return await local(direct);
  } finally {
    await lock.release();
  }
}
