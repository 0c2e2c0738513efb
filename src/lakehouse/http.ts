import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';

const gunzipAsync = promisify(gunzip);

/** Error bodies are bounded: at most this many errors, each message at most this long. */
const MAX_ERRORS = 100;
const MAX_MESSAGE = 500;

const clip = (s: unknown) =>
  typeof s === 'string' && s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}… (cut)` : s;

/**
 * Bounds an error body: a request with thousands of bad records, or a message quoting a huge
 * input, must not produce a response larger than the request.
 */
function bounded(body: unknown): unknown {
  const b = body as { errors?: unknown[]; error?: { message?: unknown } };
  if (Array.isArray(b?.errors)) {
    const errors = b.errors.slice(0, MAX_ERRORS).map((e) => {
      const x = e as { message?: unknown };
      return x && typeof x === 'object' && 'message' in x ? { ...x, message: clip(x.message) } : e;
    });
    const more = b.errors.length - errors.length;
    return { ...b, errors, ...(more > 0 ? { truncated: more } : {}) };
  }
  if (b?.error && typeof b.error === 'object' && 'message' in b.error) {
    return { ...b, error: { ...b.error, message: clip(b.error.message) } };
  }
  return body;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(status >= 400 ? bounded(body) : body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}

/** A request body, or why it could not be read. */
export type BodyRead =
  | { body: Buffer }
  | { tooLarge: true }
  | { unsupportedEncoding: string }
  | { badEncoding: string };

/**
 * Reads a request body up to `limit` bytes; `tooLarge` when it is longer (the rest is
 * discarded). `Content-Encoding: gzip` bodies (which Pipelines accepts) are inflated, with the
 * same limit on the inflated size.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity')
    .trim()
    .toLowerCase();
  const gzip = encoding === 'gzip' || encoding === 'x-gzip';
  if (!gzip && encoding !== 'identity' && encoding !== '') {
    req.resume();
    return { unsupportedEncoding: encoding };
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return { tooLarge: true };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      return { tooLarge: true };
    }
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks);
  if (!gzip) return { body: raw };
  try {
    return { body: await gunzipAsync(raw, { maxOutputLength: limit }) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return { tooLarge: true };
    return { badEncoding: `the gzip body cannot be inflated: ${(e as Error).message}` };
  }
}

/** The answer to a body that could not be read (413/415/400), for a JSON error of the given shape. */
export function bodyProblem(
  read: Exclude<BodyRead, { body: Buffer }>,
  limit: number,
): { status: number; message: string } {
  if ('tooLarge' in read)
    return {
      status: 413,
      message: `request body over the ${limit}-byte limit: send fewer records per request`,
    };
  if ('unsupportedEncoding' in read)
    return {
      status: 415,
      message: `unsupported Content-Encoding "${read.unsupportedEncoding}": use gzip or none`,
    };
  return { status: 400, message: read.badEncoding };
}
