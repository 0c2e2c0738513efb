/**
 * Compares what a sink accepted with what the outbox committed: nothing missing, nothing
 * that was rolled back (or never emitted), duplicates counted (delivery is at least once),
 * and per-partition order checked on the FIRST arrival of each event (a late duplicate of
 * an already delivered event is not a reordering).
 */

/** A committed event, listed in commit-consistent order per partition. */
export interface ExpectedEvent {
  event_id: string;
  stream: string;
  partitionKey: string;
  /**
   * Order within the partition. When every event of a partition has one, it defines the
   * expected order (ascending); otherwise the order of `expected` does.
   */
  seq?: number;
}

/**
 * What the sink accepted, in order: either the records themselves (`{event_id, ...}`) or
 * the sink server's entries (`{stream, record: {event_id, ...}}`).
 */
export type ReceivedItem =
  | { event_id?: unknown; stream?: unknown; record?: undefined }
  | { record: Record<string, unknown>; stream?: unknown };

export interface CheckDeliveryInput<R> {
  expected: readonly ExpectedEvent[];
  received: readonly R[];
  /** Events emitted in transactions that rolled back: must never arrive. */
  rolledBack?: Iterable<string>;
  /** Event id of a received item. Default: `item.event_id`, else `item.record.event_id`. */
  eventIdOf?: (item: R) => string | undefined;
  /**
   * Partition of a received item; when given, each arrival is checked against the
   * expected event's `partitionKey` (reported in `misrouted`). Order is always checked on
   * the expected partitions.
   */
  partitionOf?: (item: R) => string | undefined;
}

export interface OrderViolation {
  partition: string;
  /** Expected first... */
  before: string;
  /** ...but this one arrived (first) earlier. */
  after: string;
}

export interface Misrouted {
  event_id: string;
  field: 'stream' | 'partition';
  expected: string;
  got: string;
}

export interface DeliveryResult {
  /** Committed events that never arrived. */
  missing: string[];
  /** Arrived but rolled back or never emitted (unique, in order of first arrival). */
  phantoms: string[];
  /** Extra copies received (an event received 3 times counts 2). */
  duplicates: number;
  /** Events received more than once. */
  duplicateIds: string[];
  orderViolations: OrderViolation[];
  /** Arrivals whose stream (or partition, with `partitionOf`) is not the expected one. */
  misrouted: Misrouted[];
  expectedCount: number;
  receivedCount: number;
  /** Distinct expected events that arrived. */
  deliveredCount: number;
}

function defaultEventIdOf(item: unknown): string | undefined {
  const o = item as { event_id?: unknown; record?: { event_id?: unknown } } | null;
  const id = o?.event_id ?? o?.record?.event_id;
  return typeof id === 'string' ? id : id === undefined || id === null ? undefined : String(id);
}

export function checkDelivery<R = ReceivedItem>(input: CheckDeliveryInput<R>): DeliveryResult {
  const { expected, received, partitionOf } = input;
  const eventIdOf = input.eventIdOf ?? defaultEventIdOf;
  const rolledBack = new Set(input.rolledBack ?? []);

  const byId = new Map<string, ExpectedEvent>();
  for (const e of expected) {
    if (byId.has(e.event_id)) throw new Error(`checkDelivery: event ${e.event_id} is expected twice`);
    if (rolledBack.has(e.event_id)) {
      throw new Error(`checkDelivery: event ${e.event_id} is both expected and rolled back`);
    }
    byId.set(e.event_id, e);
  }

  const firstArrival = new Map<string, number>();
  const copies = new Map<string, number>();
  const phantoms: string[] = [];
  const misrouted: Misrouted[] = [];
  const misroutedSeen = new Set<string>();
  const misroute = (m: Misrouted) => {
    const key = `${m.event_id}\u0000${m.field}\u0000${m.got}`;
    if (misroutedSeen.has(key)) return;
    misroutedSeen.add(key);
    misrouted.push(m);
  };

  received.forEach((item, i) => {
    const id = eventIdOf(item) ?? `<no event_id at #${i}>`;
    copies.set(id, (copies.get(id) ?? 0) + 1);
    if (!firstArrival.has(id)) {
      firstArrival.set(id, i);
      if (!byId.has(id)) phantoms.push(id);
    }
    const e = byId.get(id);
    if (!e) return;
    const stream = (item as { stream?: unknown } | null)?.stream;
    if (typeof stream === 'string' && stream !== e.stream) {
      misroute({ event_id: id, field: 'stream', expected: e.stream, got: stream });
    }
    if (partitionOf) {
      const p = partitionOf(item);
      if (p !== undefined && p !== e.partitionKey) {
        misroute({ event_id: id, field: 'partition', expected: e.partitionKey, got: p });
      }
    }
  });

  let duplicates = 0;
  const duplicateIds: string[] = [];
  for (const [id, n] of copies) {
    if (n > 1) {
      duplicates += n - 1;
      duplicateIds.push(id);
    }
  }

  const partitions = new Map<string, ExpectedEvent[]>();
  for (const e of expected) {
    const list = partitions.get(e.partitionKey);
    if (list) list.push(e);
    else partitions.set(e.partitionKey, [e]);
  }
  const orderViolations: OrderViolation[] = [];
  for (const [partition, list] of partitions) {
    const ordered = list.every((e) => e.seq !== undefined)
      ? [...list].sort((a, b) => (a.seq as number) - (b.seq as number))
      : list;
    // The latest-arriving event among those expected earlier; anything arriving before it
    // is out of order (reported against it).
    let latest: { id: string; at: number } | undefined;
    for (const e of ordered) {
      const at = firstArrival.get(e.event_id);
      if (at === undefined) continue;
      if (latest && at < latest.at) orderViolations.push({ partition, before: latest.id, after: e.event_id });
      else latest = { id: e.event_id, at };
    }
  }

  const missing = expected.filter((e) => !firstArrival.has(e.event_id)).map((e) => e.event_id);
  return {
    missing,
    phantoms,
    duplicates,
    duplicateIds,
    orderViolations,
    misrouted,
    expectedCount: expected.length,
    receivedCount: received.length,
    deliveredCount: expected.length - missing.length,
  };
}

export interface AssertDeliveredOptions {
  /** Most duplicates tolerated. Default: any (delivery is at least once). */
  maxDuplicates?: number;
  /** Problems listed per kind. Default 5. */
  show?: number;
}

/** Throws a readable error when `result` shows a lost, phantom, reordered or misrouted event. */
export function assertDelivered(result: DeliveryResult, options: AssertDeliveredOptions = {}): void {
  const show = options.show ?? 5;
  const list = <T>(items: readonly T[], fmt: (t: T) => string) =>
    items.slice(0, show).map(fmt).join(', ') +
    (items.length > show ? `, ... (${items.length - show} more)` : '');
  const problems: string[] = [];
  if (result.missing.length > 0) {
    problems.push(`${result.missing.length} missing: ${list(result.missing, String)}`);
  }
  if (result.phantoms.length > 0) {
    problems.push(
      `${result.phantoms.length} phantom (rolled back or never emitted): ${list(result.phantoms, String)}`,
    );
  }
  if (result.orderViolations.length > 0) {
    problems.push(
      `${result.orderViolations.length} order violation(s): ${list(
        result.orderViolations,
        (v) => `[${v.partition}] ${v.after} arrived before ${v.before}`,
      )}`,
    );
  }
  if (result.misrouted.length > 0) {
    problems.push(
      `${result.misrouted.length} misrouted: ${list(
        result.misrouted,
        (m) => `${m.event_id} ${m.field} ${m.got} (expected ${m.expected})`,
      )}`,
    );
  }
  if (options.maxDuplicates !== undefined && result.duplicates > options.maxDuplicates) {
    problems.push(
      `${result.duplicates} duplicate(s) (at most ${options.maxDuplicates} allowed): ${list(result.duplicateIds, String)}`,
    );
  }
  if (problems.length === 0) return;
  throw new Error(
    `delivery check failed (${result.deliveredCount}/${result.expectedCount} delivered, ` +
      `${result.receivedCount} received, ${result.duplicates} duplicate(s)):\n  - ${problems.join('\n  - ')}`,
  );
}
