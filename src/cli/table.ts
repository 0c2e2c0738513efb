/** Formats rows as a plain text table (numbers right-aligned). */
export function formatTable(headers: string[], rows: unknown[][]): string {
  const cells = rows.map((r) => r.map((v) => (v === null || v === undefined ? '' : String(v))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const numeric = headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null),
  );
  const line = (r: string[]) =>
    r
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n`;
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** Formats rows as CSV with a header line (RFC 4180 quoting). */
export function toCsv(columns: string[], rows: Record<string, unknown>[]): string {
  return `${[columns.map(csvCell).join(','), ...rows.map((row) => columns.map((n) => csvCell(row[n])).join(','))].join('\n')}\n`;
}

/** Formats row objects as a text table of `columns`, or `(no rows)`. */
export function formatRows(columns: string[], rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)\n';
  return formatTable(
    columns,
    rows.map((row) => columns.map((c) => row[c])),
  );
}
