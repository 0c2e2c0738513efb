import type { Command } from 'commander';
import { keyedEventId } from '../../backfill/backfill.js';
import type { StreamName } from '../../domain/catalog.js';
import { defaultCatalog } from '../../domain/defaultCatalog.js';
import type { EventEnvelope } from '../../domain/envelope.js';
import { ValidationError, type ValidationIssue } from '../../errors.js';
import { createOutbox } from '../../outbox/outbox.js';
import type { PartitionRef } from '../../outbox/rows.js';
import { type CliContext, EXIT, positiveInt } from '../context.js';
import { readNdjson } from '../ndjson.js';
import { projectConfig } from '../projectConfig.js';

interface EmitOptions {
  batchSize: number;
  key?: string[];
  json?: boolean;
  wake: boolean;
}

/** Called after each committed batch with the partitions that got events (wakes the relay). */
export type AfterCommit = (partitions: PartitionRef[]) => Promise<void>;

export function emitCommand(
  program: Command,
  ctx: () => CliContext,
  afterCommit: (c: CliContext) => AfterCommit,
): void {
  program
    .command('emit')
    .description('Write NDJSON records of a stream to the outbox, in all-or-nothing batches')
    .argument('<stream>', `lake stream of the catalog (default: ${defaultCatalog.names.join(', ')})`)
    .argument('[file]', 'NDJSON file, or - for standard input', '-')
    .option('--batch-size <n>', 'records per transaction', positiveInt('--batch-size'), 500)
    .option(
      '--key <fields>',
      'derive each event_id from these fields (comma-separated, e.g. order_id,status) as backfill does, so ' +
        'emitting the same file again writes nothing twice; an explicit "event_id" wins',
      (v) =>
        v
          .split(',')
          .map((k) => k.trim())
          .filter(Boolean),
    )
    .option('--json', 'print {"written":N,"duplicates":N,"rejected":N}')
    .option('--no-wake', 'do not queue relay work after commit (the relay sweep still finds the events)')
    .addHelpText(
      'after',
      '\nEach line is one record with the stream\'s fields; an optional "event_id" (UUID) is the\n' +
        'idempotency key and an optional "event_type" names the event. Without event_id or --key, every\n' +
        'run writes new events: emitting the same file twice doubles its data. An invalid line stops the\n' +
        'run with exit code 1: its batch is not written, earlier batches stay committed.',
    )
    .action(async (stream: string, file: string, opts: EmitOptions) => {
      const { catalog } = await projectConfig();
      if (!catalog.has(stream)) {
        process.stderr.write(
          `lakehouse emit: unknown stream "${stream}"; known streams: ${catalog.names.join(', ')}\n`,
        );
        process.exitCode = EXIT.usage;
        return;
      }
      const c = ctx();
      const outbox = createOutbox({ schema: c.config.schema, catalog });
      const wake = opts.wake ? afterCommit(c) : undefined;
      const totals = { written: 0, duplicates: 0, rejected: 0 };
      let batch: EventEnvelope[] = [];
      let batchLines: number[] = [];
      const issues: ValidationIssue[] = [];
      let batchStart = 0;

      const flush = async () => {
        if (batch.length === 0) return;
        const client = await c.pool.connect();
        try {
          await client.query('BEGIN');
          const r = await outbox.emit(client, ...batch);
          await client.query('COMMIT');
          totals.written += r.written;
          totals.duplicates += r.duplicates.length;
          if (wake && r.partitions.length > 0) await wake(r.partitions);
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          if (!isDataError(e)) throw e;
          const line = await findRejectedLine(client, outbox, batch, batchLines);
          issues.push({
            stream,
            field: '',
            problem: `PostgreSQL rejected the record: ${(e as Error).message}`,
            line,
          });
        } finally {
          client.release();
        }
        batch = [];
        batchLines = [];
      };

      for await (const { line, value, error } of readNdjson(file)) {
        if (batch.length === 0 && issues.length === 0) batchStart = line;
        if (error) issues.push({ stream, field: '', problem: error, line });
        else {
          try {
            batch.push(toEvent(outbox, stream, value, line, opts.key));
            batchLines.push(line);
          } catch (e) {
            if (!(e instanceof ValidationError)) throw e;
            issues.push(...e.issues);
          }
        }
        if (batch.length + countLines(issues) >= opts.batchSize) {
          if (issues.length > 0) break;
          await flush();
          if (issues.length > 0) break;
        }
      }
      if (issues.length === 0) await flush();
      if (issues.length > 0) {
        totals.rejected = countLines(issues);
        for (const i of issues.slice(0, 20)) {
          process.stderr.write(
            `lakehouse emit: line ${i.line}: ${i.field ? `field "${i.field}": ` : ''}${i.problem}\n`,
          );
        }
        if (issues.length > 20)
          process.stderr.write(`lakehouse emit: ... ${issues.length - 20} more problems\n`);
        process.stderr.write(
          `lakehouse emit: the batch starting at line ${batchStart} was not written; ${totals.written} record(s) ` +
            'of earlier batches are committed.\n',
        );
        process.exitCode = EXIT.failed;
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(totals)}\n`);
      else if (issues.length === 0) {
        process.stdout.write(`${stream}: ${totals.written} written, ${totals.duplicates} duplicate(s)\n`);
      }
    });
}

/** A PostgreSQL error caused by the data of a record (data exception, constraint, size limit). */
function isDataError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}

/**
 * Finds the line of the record PostgreSQL rejected in a failed batch by writing the records
 * one at a time in transactions that are always rolled back. Only runs after a failure.
 */
async function findRejectedLine(
  client: import('pg').PoolClient,
  outbox: ReturnType<typeof createOutbox>,
  batch: EventEnvelope[],
  lines: number[],
): Promise<number> {
  for (let i = 0; i < batch.length; i++) {
    await client.query('BEGIN');
    try {
      await outbox.emit(client, batch[i]!);
    } catch {
      return lines[i]!;
    } finally {
      await client.query('ROLLBACK').catch(() => {});
    }
  }
  return lines[0]!;
}

function idFromKey(stream: string, data: Record<string, unknown>, key: string[], line: number): string {
  const missing = key.filter((k) => data[k] === null || data[k] === undefined);
  if (missing.length > 0)
    throw new ValidationError(
      missing.map((field) => ({ stream, field, problem: 'is a --key field and must be present', line })),
    );
  return keyedEventId(
    stream,
    key.map((k) => data[k]),
  );
}

function countLines(issues: ValidationIssue[]): number {
  return new Set(issues.map((i) => i.line)).size;
}

function toEvent(
  outbox: ReturnType<typeof createOutbox>,
  stream: string,
  value: unknown,
  line: number,
  key?: string[],
): EventEnvelope {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError([{ stream, field: '', problem: 'each line must be a JSON object', line }]);
  }
  const { event_id: given, event_type, ...data } = value as Record<string, unknown>;
  const event_id = given ?? (key ? idFromKey(stream, data, key, line) : undefined);
  try {
    const [env] = outbox.prepare([
      {
        stream: stream as StreamName,
        data: data as never,
        ...(event_id !== undefined ? { eventId: event_id as string } : {}),
        ...(event_type !== undefined ? { eventType: event_type as string } : {}),
      },
    ]);
    return env as EventEnvelope;
  } catch (e) {
    if (e instanceof ValidationError) throw e.atLine(line);
    throw e;
  }
}
