import { z } from 'zod';

/**
 * Field building blocks shared by the lake streams. Each carries a `lake` annotation
 * (zod metadata) naming its logical type, so the Pipelines stream schema can be generated
 * from these zod schemas without a second description of the same fields.
 */
export type LakeLogicalType = 'id' | 'text' | 'money' | 'timestamp' | 'count' | 'integer' | 'float';

export interface LakeFieldMeta {
  /** Logical type of the field in the lake. */
  lake: LakeLogicalType;
  /** For `money`: digits after the decimal point that are kept exactly. */
  scale?: number;
  /** For `money`: total significant digits. */
  precision?: number;
}

/** Money is stored as an exact decimal(18, 4): enough for sub-cent catalog prices, exact sums. */
export const MONEY_PRECISION = 18;
export const MONEY_SCALE = 4;
/**
 * Largest amount accepted: a JSON number (an IEEE double) holds every decimal of at most 15
 * significant digits exactly, so with 4 decimals amounts stay below 10^11. Beyond that,
 * `9999999999999.9999` would silently arrive as `10000000000000`; it is rejected instead.
 */
export const MONEY_MAX = 10 ** (15 - MONEY_SCALE) - 10 ** -MONEY_SCALE;

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/;

/**
 * A tenant id: any non-empty text of at most 64 characters without control characters.
 * It is data everywhere (quoted as a SQL literal, percent-encoded in partition paths,
 * base64 in job ids): `NULL`, quotes, unicode, `:`, `@`, `/` are all ordinary ids.
 */
export const tenantId = () =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
    .min(1, 'must not be empty')
    .max(64, 'must be at most 64 characters')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
    .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters')
    .meta({ lake: 'id' } satisfies LakeFieldMeta);

/** An identifier of a business object (order, product, session, ...). */
export const id = () =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
    .regex(
      ID_PATTERN,
      'must be 1-128 characters of letters, digits, _ . : @ - starting with a letter or digit',
    )
    .meta({ lake: 'id' } satisfies LakeFieldMeta);

/** Free text with a length bound (the lake stores it as a string column). */
export const text = (max = 2048) =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a string') })
    .max(max, `must be at most ${max} characters`)
    .meta({ lake: 'text' } satisfies LakeFieldMeta);

/**
 * An amount of money: a finite JSON number with at most 4 decimals, kept exactly as
 * decimal(18, 4) in the lake. Binary floats are not used for money in the lake so that
 * `SUM(total_amount)` matches the sum of the input to the cent.
 */
export const money = () =>
  z
    .number({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a finite number') })
    .min(0, 'must not be negative')
    .max(
      MONEY_MAX,
      `must be at most ${MONEY_MAX.toFixed(MONEY_SCALE)} (a JSON number carries at most 15 significant digits exactly)`,
    )
    .refine((v) => hasAtMostDecimals(v, MONEY_SCALE), `must have at most ${MONEY_SCALE} decimal places`)
    .meta({ lake: 'money', precision: MONEY_PRECISION, scale: MONEY_SCALE } satisfies LakeFieldMeta);

/** A count (items, stock): a non-negative safe integer. */
export const count = () =>
  z
    .number({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a number') })
    .int('must be an integer')
    .min(0, 'must not be negative')
    .max(Number.MAX_SAFE_INTEGER)
    .meta({ lake: 'count' } satisfies LakeFieldMeta);

/** A signed integer within ±2^31 (status codes, durations in ms). */
export const integer = (min = -(2 ** 31), max = 2 ** 31 - 1) =>
  z
    .number({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a number') })
    .int('must be an integer')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .meta({ lake: 'integer' } satisfies LakeFieldMeta);

/** A finite floating point number (scores, ratios). */
export const float = () =>
  z
    .number({ error: (iss) => (iss.input === undefined ? 'is required' : 'must be a finite number') })
    .meta({ lake: 'float' } satisfies LakeFieldMeta);

/** Years a timestamp may have: outside them it is a bug upstream, and partitions would lie. */
const MIN_YEAR = 1900;
const MAX_YEAR = 9999;

/**
 * A point in time: an RFC 3339 string with an offset, or a `Date`. Normalized to UTC
 * ISO-8601 with milliseconds (`2026-02-01T10:00:00.000Z`), the form Pipelines reads as a
 * timestamp.
 */
export const timestamp = () =>
  z
    .union([z.iso.datetime({ offset: true }), z.date()], {
      error: 'must be an RFC 3339 date-time with a time zone (e.g. 2026-02-01T10:00:00Z) or a Date',
    })
    .transform((v, ctx) => {
      const d = v instanceof Date ? v : new Date(v);
      if (Number.isNaN(d.getTime())) {
        ctx.addIssue({ code: 'custom', message: 'is not a valid date' });
        return z.NEVER;
      }
      const year = d.getUTCFullYear();
      if (year < MIN_YEAR || year > MAX_YEAR) {
        ctx.addIssue({
          code: 'custom',
          message: `must be between the years ${MIN_YEAR} and ${MAX_YEAR} (UTC), got year ${year}`,
        });
        return z.NEVER;
      }
      return d.toISOString();
    })
    .meta({ lake: 'timestamp' } satisfies LakeFieldMeta);

/**
 * `true` when the shortest decimal form of `v` (the one JSON shows) has at most `decimals`
 * digits after the point: `19.99` passes, `0.1 + 0.2` (0.30000000000000004) does not.
 */
export function hasAtMostDecimals(v: number, decimals: number): boolean {
  return Number.isFinite(v) && Number(v.toFixed(decimals)) === v;
}

/** Optional in input, always present (as `null`) in the stored record. */
export const nullable = <T extends z.ZodType>(schema: T) => schema.nullable().default(null);
