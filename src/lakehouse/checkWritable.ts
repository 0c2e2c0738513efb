/** One field of one record that the Parquet/Iceberg writer could not store. */
export interface WriteFailure {
  field: string;
  message: string;
}

/** Iceberg timestamps are written as ISO dates by DuckDB: years 1 to 9999 in UTC. */
const MIN_TIME = Date.parse('0001-01-01T00:00:00.000Z');
const MAX_TIME = Date.parse('9999-12-31T23:59:59.999Z');
// A lone surrogate (half of a UTF-16 pair) has no UTF-8 encoding: the JSON and Parquet writers refuse it.
const LONE_SURROGATE = /\p{Surrogate}/u;

function decimalFailure(v: unknown, precision: number, scale: number): string | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a finite number';
  if (Math.abs(v) >= 10 ** (precision - scale))
    return `is out of range for decimal(${precision}, ${scale}): at most ${precision - scale} digits before the point`;
  if (Number(v.toFixed(scale)) !== v) return `must have at most ${scale} decimal places`;
  return undefined;
}

function valueFailure(v: unknown, duckType: string): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string' && LONE_SURROGATE.test(v))
    return 'contains a lone UTF-16 surrogate (not valid Unicode): it cannot be stored as UTF-8';
  const dec = /^DECIMAL\((\d+),\s*(\d+)\)$/.exec(duckType);
  if (dec) return decimalFailure(v, Number(dec[1]), Number(dec[2]));
  switch (duckType) {
    case 'TIMESTAMPTZ': {
      const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
      if (Number.isNaN(t)) return 'is not a timestamp';
      if (t < MIN_TIME || t > MAX_TIME)
        return 'is outside the writable range 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z (in UTC)';
      return undefined;
    }
    case 'INTEGER':
      return Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31
        ? undefined
        : 'must be a 32-bit integer';
    case 'BIGINT':
      return Number.isSafeInteger(v) ? undefined : 'must be an integer within ±2^53';
    case 'DOUBLE':
      return typeof v === 'number' && Number.isFinite(v) ? undefined : 'must be a finite number';
    default:
      return undefined;
  }
}

/**
 * What the Parquet/Iceberg writer will need of a (schema-valid, normalized) record: valid
 * Unicode in every string, timestamps within the writable range, decimals within their
 * precision, integers within their width. `columns` maps the staged columns to their DuckDB
 * types. Returns one failure per field that could not be written; empty when it can.
 */
export function checkWritable(
  record: Record<string, unknown>,
  columns: ReadonlyMap<string, string>,
): WriteFailure[] {
  const failures: WriteFailure[] = [];
  for (const field in record) {
    const message = valueFailure(record[field], columns.get(field) ?? 'VARCHAR');
    if (message) failures.push({ field, message });
  }
  return failures;
}
