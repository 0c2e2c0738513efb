/** A task run on a schedule by {@link runPeriodically}. */
export interface PeriodicRun {
  /**
   * Stops the schedule: no new run starts, the run in flight sees its signal aborted, and
   * the returned promise resolves once that run has ended. Safe to call twice.
   */
  stop(): Promise<void>;
}

/**
 * Runs `task` every `everyMs` (the first run after `firstDelayMs`, default `everyMs`), never
 * two runs at once: the next run is scheduled when the previous one ends, so a run longer
 * than the interval delays the next instead of piling up. The timer does not keep the
 * process alive. `task` reports its own errors; one that escapes is passed to `onError`.
 */
export function runPeriodically(
  task: (signal: AbortSignal) => Promise<void>,
  everyMs: number,
  options: { firstDelayMs?: number; onError?: (e: unknown) => void } = {},
): PeriodicRun {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const schedule = (delay: number) => {
    if (abort.signal.aborted) return;
    timer = setTimeout(() => {
      running = task(abort.signal)
        .catch((e) => options.onError?.(e))
        .finally(() => {
          running = undefined;
          schedule(everyMs);
        });
    }, delay);
    timer.unref();
  };
  schedule(options.firstDelayMs ?? everyMs);

  return {
    async stop() {
      abort.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
