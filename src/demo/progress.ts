import type { Outbox } from '../outbox/outbox.js';
import type { OutboxStatus } from '../outbox/status.js';

/** Delivery totals over all streams. */
export interface DemoTotals {
  pending: number;
  delivered: number;
  inFlight: number;
  lag: number;
}

export function totals(status: OutboxStatus): DemoTotals {
  let pending = 0;
  let delivered = 0;
  let inFlight = 0;
  let lag = 0;
  for (const s of status.streams) {
    pending += s.pending;
    delivered += s.delivered;
    inFlight += s.inFlight;
    lag = Math.max(lag, s.oldestPendingAgeSeconds);
  }
  return { pending, delivered, inFlight, lag };
}

/** The progress line of the demo: rewritten in place on a terminal, every 5 s otherwise. */
export interface DemoProgress {
  phase: string;
  readonly last: DemoTotals;
  /** Reads the outbox status and prints the line. */
  report(): Promise<void>;
  /** Stops the periodic report and ends the line. */
  stop(): void;
}

export function startProgress(o: {
  outbox: Outbox;
  db: Parameters<Outbox['status']>[0];
  emitted: () => number;
  out: NodeJS.WritableStream;
  isTty: boolean;
}): DemoProgress {
  let last: DemoTotals = { pending: 0, delivered: 0, inFlight: 0, lag: 0 };
  let lastLine = 0;
  let reporting = false;
  let stopped = false;
  const p: DemoProgress = {
    phase: 'starting',
    get last() {
      return last;
    },
    async report() {
      try {
        last = totals(await o.outbox.status(o.db));
      } catch {
        return;
      }
      const line = `[${p.phase}] emitted ${o.emitted()}  delivered ${last.delivered}  pending ${last.pending}  lag ${last.lag.toFixed(1)}s`;
      if (o.isTty) o.out.write(`\r\x1b[K${line}`);
      else if (Date.now() - lastLine >= 5000) {
        lastLine = Date.now();
        o.out.write(`${line}\n`);
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(ticker);
      if (o.isTty) o.out.write('\n');
    },
  };
  const ticker = setInterval(() => {
    if (reporting) return;
    reporting = true;
    p.report().finally(() => {
      reporting = false;
    });
  }, 500);
  return p;
}
