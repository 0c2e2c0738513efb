/**
 * Iceberg's single-value binary serialization (spec, Appendix D), used for column bounds in
 * manifests and partition bounds in manifest lists. Only the types this lake writes are
 * handled; anything else returns undefined and the bound is left out (bounds are optional).
 */
export function serializeValue(icebergType: string, value: string | number | null): Buffer | undefined {
  if (value === null) return undefined;
  const text = String(value);
  switch (icebergType) {
    case 'int':
    case 'date': {
      const n = icebergType === 'date' && typeof value === 'string' ? daysOf(text) : Number(text);
      if (n === undefined || !Number.isInteger(n)) return undefined;
      const b = Buffer.alloc(4);
      b.writeInt32LE(n);
      return b;
    }
    case 'long': {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(text));
      return b;
    }
    case 'string':
      return Buffer.from(text, 'utf8');
    case 'timestamp':
    case 'timestamptz': {
      const micros = microsOf(text);
      if (micros === undefined) return undefined;
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(micros);
      return b;
    }
    default: {
      const dec = /^decimal\((\d+),\s*(\d+)\)$/.exec(icebergType);
      if (dec) return decimalBytes(text, Number(dec[2]));
      return undefined;
    }
  }
}

/** Days since 1970-01-01 of `YYYY-MM-DD`. */
export function daysOf(date: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return undefined;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / 86_400_000;
}

/** `YYYY-MM-DD` of days since 1970-01-01. */
export function dateOfDays(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/** Microseconds since the epoch of DuckDB's timestamp text (`2026-02-01 10:00:00.123456+00`). */
export function microsOf(text: string): bigint | undefined {
  const m =
    /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(?:([+-])(\d{2})(?::?(\d{2}))?|Z)?$/.exec(
      text,
    );
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  if (Number.isNaN(ms)) return undefined;
  const frac = BigInt((m[3] ?? '').padEnd(6, '0').slice(0, 6) || '0');
  const offsetMin = m[4] ? (m[4] === '-' ? -1 : 1) * (Number(m[5]) * 60 + Number(m[6] ?? 0)) : 0;
  return (BigInt(ms) - BigInt(offsetMin * 60_000)) * 1000n + frac;
}

/** Big-endian two's complement of the unscaled value, in the fewest bytes. */
function decimalBytes(text: string, scale: number): Buffer | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return undefined;
  const frac = (m[3] ?? '').padEnd(scale, '0');
  if (frac.length > scale) return undefined;
  let v = BigInt(`${m[1]}${m[2]}${frac}`);
  const bytes: number[] = [];
  for (;;) {
    bytes.unshift(Number(v & 0xffn));
    const sign = (bytes[0]! & 0x80) !== 0;
    v >>= 8n;
    if ((v === 0n && !sign) || (v === -1n && sign)) break;
  }
  return Buffer.from(bytes);
}
