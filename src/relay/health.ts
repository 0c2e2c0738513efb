import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthSnapshot {
  status: 'idle' | 'delivering' | 'stuck' | 'stopping';
  /** Seconds since this process last swept for work (its heartbeat). */
  heartbeatAgeSeconds: number | null;
  /** Seconds since this process last had a batch acknowledged. */
  lastDeliveryAgeSeconds: number | null;
  /** Lanes with deliverable pending events at the last sweep. */
  pendingLanes: number;
  /** The same count, under its name from before lanes (kept for dashboards and scripts). */
  pendingPartitions: number;
}

/** What the relay notes as it works, read by {@link healthSnapshot}. */
export interface HealthBeat {
  lastSweepAt: number;
  lastDeliveryAt: number;
  pendingLanes: number;
  pendingSince: number;
}

/** The relay's health: stuck when its heartbeat is stale or pending lanes see no delivery. */
export function healthSnapshot(
  beat: HealthBeat,
  o: { stopping: boolean; sweepIntervalMs: number; stuckAfterMs: number },
): HealthSnapshot {
  const now = Date.now();
  const hb = beat.lastSweepAt ? (now - beat.lastSweepAt) / 1000 : null;
  const ld = beat.lastDeliveryAt ? (now - beat.lastDeliveryAt) / 1000 : null;
  const staleBeat = hb === null || hb * 1000 > Math.max(10_000, 5 * o.sweepIntervalMs);
  const progressAt = Math.max(beat.lastDeliveryAt, beat.pendingSince);
  const noProgress = beat.pendingLanes > 0 && now - progressAt > o.stuckAfterMs;
  const status: HealthSnapshot['status'] = o.stopping
    ? 'stopping'
    : staleBeat || noProgress
      ? 'stuck'
      : beat.pendingLanes > 0
        ? 'delivering'
        : 'idle';
  return {
    status,
    heartbeatAgeSeconds: hb,
    lastDeliveryAgeSeconds: ld,
    pendingLanes: beat.pendingLanes,
    pendingPartitions: beat.pendingLanes,
  };
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
