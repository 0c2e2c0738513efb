/**
 * Errors a user of the library can cause or meet. Each has a stable `code` so callers and
 * scripts can branch on it without parsing messages; `cause` keeps the underlying error.
 */
export type LakehouseErrorCode =
  | 'VALIDATION'
  | 'UNKNOWN_STREAM'
  | 'RECORD_TOO_LARGE'
  | 'CONCURRENCY_CONFLICT'
  | 'CONFIG'
  | 'MIGRATION'
  | 'NOT_FOUND'
  | 'WAREHOUSE_LOCKED'
  /** A Cloudflare API (REST, GraphQL, Basin SQL) answered with an error or could not be reached. */
  | 'REMOTE';

export class LakehouseError extends Error {
  readonly code: LakehouseErrorCode;
  constructor(code: LakehouseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LakehouseError';
    this.code = code;
  }
}

/** Where a rejected event came from and what was wrong with it. */
export interface ValidationIssue {
  /** The lake stream the event was for, when known. */
  stream?: string;
  /** Dotted path of the offending field (`total_amount`, `metadata.traceparent`), or `''` for the whole record. */
  field: string;
  /** What is wrong with the value, in words. */
  problem: string;
  /** Index of the event in the call (0-based), when several were given. */
  index?: number;
  /** Input line (1-based), when the event came from NDJSON. */
  line?: number;
}

function describe(issue: ValidationIssue): string {
  const where = [
    issue.line !== undefined ? `line ${issue.line}` : undefined,
    issue.index !== undefined && issue.line === undefined ? `event #${issue.index}` : undefined,
    issue.stream ? `stream "${issue.stream}"` : undefined,
    issue.field ? `field "${issue.field}"` : undefined,
  ].filter(Boolean);
  return `${where.join(', ')}: ${issue.problem}`;
}

/** An event (or option) was rejected before anything was written. */
export class ValidationError extends LakehouseError {
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[], code: LakehouseErrorCode = 'VALIDATION') {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(code, first ? `Invalid event: ${describe(first)}${more}` : 'Invalid event', {});
    this.name = 'ValidationError';
    this.issues = issues;
  }

  /** A copy of this error located at an input line (used by the CLI's NDJSON reader). */
  atLine(line: number): ValidationError {
    return new ValidationError(
      this.issues.map((i) => ({ ...i, line })),
      this.code,
    );
  }
}

/** Appending to an aggregate stream found another version than the one expected. Nothing was written. */
export class ConcurrencyError extends LakehouseError {
  readonly streamType: string;
  readonly streamId: string;
  readonly expectedVersion: number;
  readonly actualVersion: number | undefined;
  constructor(
    streamType: string,
    streamId: string,
    expectedVersion: number,
    actualVersion: number | undefined,
  ) {
    super(
      'CONCURRENCY_CONFLICT',
      `Concurrency conflict on ${streamType} "${streamId}": expected version ${expectedVersion}, ` +
        `found ${actualVersion ?? 'no stream'}. Reload the aggregate and decide again.`,
    );
    this.name = 'ConcurrencyError';
    this.streamType = streamType;
    this.streamId = streamId;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

export function isLakehouseError(e: unknown): e is LakehouseError {
  return e instanceof LakehouseError;
}
export function isValidationError(e: unknown): e is ValidationError {
  return e instanceof ValidationError;
}
export function isConcurrencyError(e: unknown): e is ConcurrencyError {
  return e instanceof ConcurrencyError;
}
