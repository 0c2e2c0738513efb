import { isLakehouseError } from '../errors.js';

/** Exit codes: 0 ok, 1 rejected input or failed operation, 2 usage or configuration error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** An error as the CLI prints it: one line with what to do, and the exit code. */
export interface ExplainedError {
  message: string;
  /** What to do about it, when known. */
  hint?: string;
  exit: number;
}

/** Where the CLI's services are, to say which one failed. */
export interface ServiceUrls {
  databaseUrl?: string;
  redisUrl?: string;
  schema?: string;
}

type PgError = Error & { code?: string; position?: string; severity?: string };
type NetError = NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };

const isPgError = (e: unknown): e is PgError =>
  e instanceof Error &&
  typeof (e as PgError).severity === 'string' &&
  /^[0-9A-Z]{5}$/.test((e as PgError).code ?? '');

function hostPort(url: string | undefined, defaultPort: number): { host: string; port: number } | undefined {
  try {
    const u = new URL(url ?? '');
    return { host: u.hostname, port: Number(u.port || defaultPort) };
  } catch {
    return undefined;
  }
}

/** Which service an address belongs to, by the configured URLs. */
function serviceOf(e: NetError, s: ServiceUrls): { name: string; env: string } | undefined {
  const pgAt = hostPort(s.databaseUrl, 5432);
  const redisAt = hostPort(s.redisUrl, 6379);
  const host = e.hostname ?? e.address;
  if (redisAt && (e.port === redisAt.port || (e.hostname && e.hostname === redisAt.host && !pgAt)))
    return { name: 'Redis', env: 'REDIS_URL' };
  if (pgAt && (e.port === pgAt.port || host === pgAt.host))
    return { name: 'PostgreSQL', env: 'DATABASE_URL' };
  if (redisAt && host === redisAt.host) return { name: 'Redis', env: 'REDIS_URL' };
  return undefined;
}

const DOCTOR = 'run `lakehouse doctor` to check every service';

function explainPg(e: PgError, s: ServiceUrls): ExplainedError {
  switch (e.code) {
    case '42P01':
    case '3F000':
      return {
        message: `the outbox schema "${s.schema ?? '?'}" is not migrated (${e.message})`,
        hint: 'run `lakehouse migrate` first, with the same DATABASE_URL and LAKEHOUSE_DB_SCHEMA',
        exit: EXIT.usage,
      };
    case '3D000':
      return {
        message: `PostgreSQL: ${e.message} (DATABASE_URL)`,
        hint: 'create it (createdb) or fix the database name at the end of DATABASE_URL',
        exit: EXIT.usage,
      };
    case '28P01':
    case '28000':
      return {
        message: `PostgreSQL refused the login: ${e.message}`,
        hint: 'check the user and password in DATABASE_URL',
        exit: EXIT.usage,
      };
    case '57P03':
    case '53300':
      return {
        message: `PostgreSQL is not accepting connections: ${e.message}`,
        hint: DOCTOR,
        exit: EXIT.usage,
      };
    default:
      return { message: `PostgreSQL error ${e.code}: ${e.message}`, exit: EXIT.failed };
  }
}

function explainNet(e: NetError, s: ServiceUrls): ExplainedError | undefined {
  const where = e.address ? `${e.address}${e.port ? `:${e.port}` : ''}` : (e.hostname ?? '');
  if (e.code === 'EADDRINUSE' || (e.code === 'EACCES' && e.syscall === 'listen'))
    return {
      message: `cannot listen on ${where}: ${e.code === 'EADDRINUSE' ? 'the address is already in use' : 'permission denied'}`,
      hint: 'stop the other process or choose another --port (0 = any free port)',
      exit: EXIT.usage,
    };
  const network = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET'];
  if (!network.includes(e.code ?? '')) return undefined;
  const svc = serviceOf(e, s);
  const what = e.code === 'ENOTFOUND' ? `unknown host "${e.hostname}"` : `${e.code} at ${where}`;
  return {
    message: `cannot reach ${svc?.name ?? 'a service'} (${what})`,
    hint: `${svc ? `is it running? check ${svc.env}` : 'check DATABASE_URL and REDIS_URL'}; ${DOCTOR}`,
    exit: EXIT.usage,
  };
}

function explainFile(e: NodeJS.ErrnoException): ExplainedError | undefined {
  if (!e.path || !['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EROFS', 'EPERM'].includes(e.code ?? ''))
    return undefined;
  const why: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
    EROFS: 'read-only file system',
  };
  return { message: `${e.path}: ${why[e.code!]}`, exit: EXIT.usage };
}

/**
 * Maps an error to what the CLI prints: a known failure becomes one line with what to do
 * and exit 2 (configuration: services, schema, ports, files) or 1 (a failed operation);
 * anything else keeps its message, without the stack unless `LAKEHOUSE_DEBUG=1`.
 */
export function explainError(e: unknown, services: ServiceUrls = {}): ExplainedError {
  if (isLakehouseError(e))
    return { message: e.message, exit: e.code === 'CONFIG' ? EXIT.usage : EXIT.failed };
  if (isPgError(e)) return explainPg(e, services);
  const err = e as NodeJS.ErrnoException;
  const known = explainNet(err, services) ?? explainFile(err);
  if (known) return known;
  // An AggregateError (several addresses tried) carries the network errors inside.
  if (e instanceof AggregateError && e.errors[0]) return explainError(e.errors[0], services);
  return {
    message: err instanceof Error ? err.message : String(e),
    hint: 'set LAKEHOUSE_DEBUG=1 for the stack trace',
    exit: EXIT.failed,
  };
}

/** Prints an explained error on standard error (with the stack when `LAKEHOUSE_DEBUG=1`) and returns the exit code. */
export function printError(
  e: unknown,
  services: ServiceUrls = {},
  env: NodeJS.ProcessEnv = process.env,
): number {
  const x = explainError(e, services);
  process.stderr.write(`lakehouse: ${x.message}${x.hint ? ` (hint: ${x.hint})` : ''}\n`);
  if (env.LAKEHOUSE_DEBUG === '1' && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return x.exit;
}
