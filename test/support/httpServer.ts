import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request as the test server received it. */
export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP server on 127.0.0.1 (random port) that records requests. */
export interface TestServer {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Stops the server and drops open connections (including ones left unanswered). */
  close(): Promise<void>;
  readonly closed: boolean;
}

export type Handler = (req: ReceivedRequest, res: ServerResponse) => void;

const started: TestServer[] = [];

/** Starts a server; `handler` answers each request after its body was read. */
export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(r);
      handler(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let closed = false;
  const s: TestServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get closed() {
      return closed;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  started.push(s);
  return s;
}

/** Servers started so far that were not stopped (for an `afterEach` check). */
export function openServers(): TestServer[] {
  return started.filter((s) => !s.closed);
}

/** Answers with a status, JSON body and headers. */
export function reply(
  res: ServerResponse,
  status: number,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body === undefined ? '' : JSON.stringify(body));
}
