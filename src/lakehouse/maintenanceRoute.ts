import type { IncomingMessage, ServerResponse } from 'node:http';
import { compact } from './compact.js';
import { expireSnapshots } from './expireSnapshots.js';
import { sameSecret } from './guards.js';
import { readBody, sendJson } from './http.js';
import { MAINTENANCE_HEADER } from './writeAccess.js';

const error = (res: ServerResponse, status: number, message: string) =>
  sendJson(res, status, { error: { message } });

/**
 * `POST /maintenance/{compact|expire-snapshots}`: `lakehouse compact`/`expire-snapshots` run by
 * another process while this server holds the warehouse. Authorized by the secret of the lock
 * file (readable only by its owner); the operation runs between this server's commits.
 */
export async function handleMaintenance(
  req: IncomingMessage,
  res: ServerResponse,
  warehouse: string,
  secret: string | undefined,
  path: string,
): Promise<void> {
  if (!secret || !sameSecret(String(req.headers[MAINTENANCE_HEADER] ?? ''), secret)) {
    return error(res, 401, 'maintenance needs the secret of the warehouse lock file');
  }
  const read = await readBody(req, 10_000);
  let body: Record<string, unknown> = {};
  try {
    body = 'body' in read ? (JSON.parse(read.body.toString('utf8') || '{}') as Record<string, unknown>) : {};
  } catch {
    return error(res, 400, 'the body must be JSON');
  }
  const num = (k: string) => (typeof body[k] === 'number' ? (body[k] as number) : undefined);
  const table = typeof body.table === 'string' ? body.table : undefined;
  const op = path.slice('/maintenance/'.length);
  if (op === 'compact') {
    const tables = await compact({
      warehouse,
      table,
      smallFileBytes: num('smallFileBytes'),
      minFiles: num('minFiles'),
    });
    return sendJson(res, 200, { tables });
  }
  if (op === 'expire-snapshots') {
    const tables = await expireSnapshots({
      warehouse,
      table,
      olderThanMs: num('olderThanMs'),
      retainLast: num('retainLast'),
      now: num('now'),
    });
    return sendJson(res, 200, { tables });
  }
  return error(res, 404, `no maintenance operation ${op}`);
}
