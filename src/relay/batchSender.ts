import type { Logger } from 'pino';
import { traceDelivery } from '../tracing/deliverySpan.js';
import { type BatchRecord, bodyBytes } from './claimBatch.js';
import { type DeliveryContext, RetryLater, Stopped } from './context.js';
import { markAttempt, markBlocked, setAttempted } from './laneState.js';
import { markDelivered } from './markDelivered.js';
import { type ParkReason, parkRecords } from './parkRecords.js';
import type { SinkOutcome } from './sink.js';
import type { Conn, Lane } from './sql.js';

/** The lane a sender works for: its lock-holding connection and its abort signal. */
export interface LaneSession {
  conn: Conn;
  lane: Lane;
  signal: AbortSignal;
  log: Logger;
}

export interface SendStats {
  delivered: number;
  parked: number;
  batches: number;
}

/**
 * Whether the sink surely stored nothing of a failed request, so that sending the records
 * again is no duplicate: only a refusal before the body was sent (connection refused, a
 * 4xx answer other than a short `committed`). 5xx, timeouts and resets may have stored it.
 */
function surelyNotStored(outcome: SinkOutcome): boolean {
  if (outcome.kind !== 'retry') return true;
  return !outcome.maybeDelivered && (outcome.status === undefined || outcome.status < 500);
}

/**
 * Sends a lane's batches: rate limit, `attempted_upto` before the request, the request,
 * then the mark; isolates poison records by splitting (or by the indexes the sink names)
 * and parks them, or blocks their partition (`onPoison: 'block'`) while the lane's other
 * partitions keep flowing. A failure that is not about a record throws {@link RetryLater}.
 */
export function createBatchSender(ctx: DeliveryContext, session: LaneSession, attemptedFrom: number) {
  const { conn, lane, log } = session;
  const schema = ctx.options.schema;
  const so = ctx.options.stream(lane.stream);
  const stats: SendStats = { delivered: 0, parked: 0, batches: 0 };
  /** Partitions blocked during this drain: their later records in claimed batches are not sent. */
  const blockedKeys = new Set<string>();
  let attemptedUpto = attemptedFrom;

  async function poison(records: BatchRecord[], reason: ParkReason, error: string): Promise<void> {
    if (so.onPoison === 'block') {
      const first = records[0] as BatchRecord;
      const p = { stream: lane.stream, partitionKey: first.partitionKey };
      await markBlocked(conn, schema, p, first.position, `${reason}: event ${first.eventId}: ${error}`);
      blockedKeys.add(first.partitionKey);
      log.error(
        { partition: first.partitionKey, eventId: first.eventId, position: first.position, reason, error },
        'partition blocked at a poison record',
      );
      return;
    }
    const positions = records.map((r) => r.position);
    const n = await parkRecords(conn, schema, lane, positions, reason, error);
    stats.parked += n;
    ctx.metrics.parked.inc({ stream: lane.stream, reason }, n);
    log.warn({ events: records.map((r) => r.eventId), reason, error }, 'parked poison records');
  }

  async function request(records: BatchRecord[], bytes: number): Promise<SinkOutcome> {
    await ctx.limiter.take(lane.stream, bytes, so.rateLimitBytesPerSecond, so.maxBatchBytes, session.signal);
    const maxPos = records.reduce((m, r) => Math.max(m, r.position), 0);
    const resent = records.filter((r) => r.position <= attemptedUpto).length;
    await markAttempt(conn, schema, lane, maxPos, resent);
    const before = attemptedUpto;
    attemptedUpto = Math.max(attemptedUpto, maxPos);
    if (resent > 0) {
      ctx.metrics.resent.inc({ stream: lane.stream }, resent);
      // At-least-once made visible: these may arrive twice (the local lake deduplicates by event_id).
      log.warn(
        { resent, fromPosition: records[0]?.position, upTo: before },
        'resending events a previous attempt may have delivered',
      );
    }
    ctx.metrics.inFlight.inc();
    try {
      const json = records.map((r) => r.json);
      return await traceDelivery(lane.stream, records, (headers) =>
        ctx.sink.send({ stream: lane.stream, records: json, signal: session.signal, headers }),
      );
    } finally {
      ctx.metrics.inFlight.dec();
    }
  }

  async function delivered(records: BatchRecord[], bytes: number, started: number): Promise<void> {
    const positions = records.map((r) => r.position);
    await markDelivered(conn, schema, lane, positions, bytes);
    attemptedUpto = 0; // cleared with the mark: see markDelivered
    stats.delivered += records.length;
    stats.batches++;
    ctx.metrics.delivered.inc({ stream: lane.stream }, records.length);
    ctx.metrics.batchSeconds.observe({ stream: lane.stream }, (performance.now() - started) / 1000);
    ctx.metrics.lastDelivery.set(Date.now() / 1000);
  }

  async function failed(outcome: Extract<SinkOutcome, { kind: 'retry' | 'config' }>, batchSize: number) {
    ctx.metrics.failures.inc({ stream: lane.stream, kind: outcome.kind });
    const level = outcome.kind === 'config' ? 'error' : 'warn';
    log[level](
      { batchSize, error: outcome.error, status: outcome.status },
      `sink ${outcome.kind === 'config' ? 'configuration error (check URL and token)' : 'failure, will retry'}`,
    );
    const retryAfter = outcome.kind === 'retry' ? outcome.retryAfterMs : undefined;
    throw new RetryLater(outcome.error, outcome.kind, retryAfter);
  }

  /** Splits a rejected request to isolate its poison record(s). */
  async function isolate(
    records: BatchRecord[],
    outcome: Extract<SinkOutcome, { kind: 'too_large' | 'rejected' }>,
  ) {
    const reason: ParkReason = outcome.kind === 'too_large' ? 'too_large' : 'rejected';
    if (records.length === 1) return poison(records, reason, outcome.error);
    const idx =
      outcome.kind === 'rejected' ? outcome.recordIndexes?.filter((i) => i < records.length) : undefined;
    if (idx && idx.length > 0) {
      const i = idx[0] as number;
      await send(records.slice(0, i));
      await poison([records[i] as BatchRecord], reason, outcome.error);
      return send(records.slice(i + 1));
    }
    const mid = Math.ceil(records.length / 2);
    await send(records.slice(0, mid));
    return send(records.slice(mid));
  }

  async function send(all: BatchRecord[]): Promise<void> {
    const records = blockedKeys.size === 0 ? all : all.filter((r) => !blockedKeys.has(r.partitionKey));
    if (records.length === 0) return;
    if (session.signal.aborted || ctx.stopping()) throw new Stopped();
    const bytes = bodyBytes(records);
    const before = attemptedUpto;
    const started = performance.now();
    const outcome = await request(records, bytes);
    ctx.metrics.batches.inc({ stream: lane.stream, outcome: outcome.kind });
    if (outcome.kind === 'ok') return delivered(records, bytes, started);
    if (session.signal.aborted || ctx.stopping()) throw new Stopped();
    if (surelyNotStored(outcome) && before < attemptedUpto) {
      await setAttempted(conn, schema, lane, before);
      attemptedUpto = before;
    }
    if (outcome.kind === 'retry' || outcome.kind === 'config') return failed(outcome, records.length);
    return isolate(records, outcome);
  }

  /** Sends a claimed batch: records the sink's schema check refuses are parked (or block) first. */
  async function deliver(batch: BatchRecord[]): Promise<void> {
    let start = 0;
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i] as BatchRecord;
      const problem = r.problem;
      if (problem === undefined) continue;
      await send(batch.slice(start, i));
      if (!blockedKeys.has(r.partitionKey)) await poison([r], 'schema', problem);
      start = i + 1;
    }
    await send(batch.slice(start));
  }

  return { deliver, stats };
}
