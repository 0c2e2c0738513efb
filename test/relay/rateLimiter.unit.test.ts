import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../src/relay/rateLimiter.js';

/** A limiter on a fake clock that records the waits it asks for (and lets time pass by them). */
function fakeLimiter() {
  let now = 0;
  const waits: number[] = [];
  const limiter = new RateLimiter(
    () => now,
    async (ms) => {
      waits.push(ms);
      now += ms;
    },
  );
  return { limiter, waits, advance: (ms: number) => (now += ms) };
}

describe('per-stream byte rate limiter', () => {
  it('lets a burst of one batch through, then paces to the configured bytes per second', async () => {
    const { limiter, waits } = fakeLimiter();
    for (let i = 0; i < 4; i++) await limiter.take('orders', 500, 1000, 1000);
    // 1,000 bytes of burst pass at once; the next 1,000 bytes need 1 s at 1,000 B/s.
    expect(waits.reduce((a, b) => a + b, 0)).toBeCloseTo(1000, 6);
  });

  it('keeps separate budgets per stream', async () => {
    const { limiter, waits } = fakeLimiter();
    await limiter.take('orders', 1000, 1000, 1000);
    await limiter.take('api_calls', 1000, 1000, 1000);
    expect(waits).toEqual([]);
  });

  it('refills the budget as time passes', async () => {
    const { limiter, waits, advance } = fakeLimiter();
    await limiter.take('orders', 1000, 1000, 1000);
    advance(1000);
    await limiter.take('orders', 1000, 1000, 1000);
    expect(waits).toEqual([]);
  });
});
