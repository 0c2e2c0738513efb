/**
 * Byte-rate limiter per stream (GCRA, a token bucket without a timer): each send reserves
 * its bytes and waits until the stream's budget allows it. Bursts up to one full batch.
 * The limit applies per relay process; run N processes and each gets the configured rate.
 */
export class RateLimiter {
  #tat = new Map<string, number>();
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  /** `now` and `sleep` are the clock (ms) and the wait; injectable for tests. */
  constructor(now: () => number = () => performance.now(), sleep = delay) {
    this.#now = now;
    this.#sleep = sleep;
  }

  /** Waits until `bytes` may be sent on `stream` at `bytesPerSecond`, bursting up to `burstBytes`. */
  async take(
    stream: string,
    bytes: number,
    bytesPerSecond: number,
    burstBytes: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const now = this.#now();
    const emission = (bytes / bytesPerSecond) * 1000;
    const tolerance = (burstBytes / bytesPerSecond) * 1000;
    // Theoretical arrival time after this send; anything beyond one burst ahead of now waits.
    const tat = Math.max(this.#tat.get(stream) ?? now, now) + emission;
    const wait = tat - tolerance - now;
    this.#tat.set(stream, tat);
    if (wait > 0) await this.#sleep(wait, signal);
  }
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
