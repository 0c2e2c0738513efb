import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}

/** Reads a request body up to `limit` bytes; `tooLarge` when it is longer (the rest is discarded). */
export async function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ body: Buffer } | { tooLarge: true }> {
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
  return { body: Buffer.concat(chunks) };
}
