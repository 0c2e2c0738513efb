import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthSnapshot {
  status: 'idle' | 'delivering' | 'stuck' | 'stopping';
  /** Seconds since this process last swept for work (its heartbeat). */
  heartbeatAgeSeconds: number | null;
  /** Seconds since this process last had a batch acknowledged. */
  lastDeliveryAgeSeconds: number | null;
  /** Partitions with deliverable pending events at the last sweep. */
  pendingPartitions: number;
}

/** Serves `/metrics` (Prometheus) and `/healthz` (200 unless stuck: 503). */
export async function startHealthServer(
  registry: Registry,
  health: () => HealthSnapshot,
  port: number,
  host: string,
): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(await registry.metrics());
    } else if (path === '/healthz') {
      const h = health();
      res.writeHead(h.status === 'stuck' ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(h));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found: try /metrics or /healthz"}');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return { server, url: `http://${host}:${addr.port}` };
}
