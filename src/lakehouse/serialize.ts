/**
 * A FIFO mutex: `run(fn)` runs `fn` after every earlier call has settled. Used for the one
 * writer per table (appends to its staging log, and its Iceberg commits).
 */
export function createSerializer() {
  let tail: Promise<unknown> = Promise.resolve();
  return function run<T>(fn: () => Promise<T>): Promise<T> {
    const result = tail.then(fn, fn);
    tail = result.catch(() => {});
    return result;
  };
}
export type Serializer = ReturnType<typeof createSerializer>;
