/**
 * What a user query touches, read from DuckDB's own parse tree (`json_serialize_sql`), not
 * from regexes: the base tables it names and, per reference, the constant comparisons on
 * columns in the top-level AND of its SELECT's WHERE (used to prune files by partition).
 * The parse also enforces the shape: one statement, a SELECT, no table functions.
 */
export interface ColumnPredicate {
  column: string;
  op: '=' | '<>' | '<' | '<=' | '>' | '>=' | 'in';
  values: (string | number | boolean | null)[];
}

export interface TableReference {
  table: string;
  /** Predicates that hold for every row this reference contributes; empty = no pruning. */
  predicates: ColumnPredicate[];
}

export type SqlAnalysis = { ok: true; references: TableReference[] } | { ok: false; message: string };

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

const OPS: Record<string, ColumnPredicate['op']> = {
  COMPARE_EQUAL: '=',
  COMPARE_NOTEQUAL: '<>',
  COMPARE_LESSTHAN: '<',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHAN: '>',
  COMPARE_GREATERTHANOREQUALTO: '>=',
};
const FLIP: Record<string, ColumnPredicate['op']> = {
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
  '=': '=',
  '<>': '<>',
};

const INTEGER_TYPES = new Set([
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'HUGEINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
  'UHUGEINT',
]);
const NUMERIC_TYPES = new Set([...INTEGER_TYPES, 'DECIMAL', 'DOUBLE', 'FLOAT']);
const INTEGER_TEXT = /^-?\d+$/;
/** `YYYY-MM-DD`, the only spelling of a date compared as text. */
export const CANONICAL_DATE = /^\d{4}-\d{2}-\d{2}$/;

type Constant = { value: string | number | null };

/**
 * The value of a constant as the engine will compare it, or undefined when unsure (then
 * the predicate does not prune). Numbers come back as numbers (a DECIMAL literal `2.0` is
 * stored as 20 with scale 1), text as strings; a cast is followed only where its result is
 * certain: an integer to a numeric type, integer text to an integer type, a `YYYY-MM-DD`
 * text to DATE, text to VARCHAR. Anything else (rounding casts, booleans, timestamps) is
 * left to the engine, unpruned.
 */
function constantOf(n: unknown): Constant | undefined {
  if (!isNode(n)) return undefined;
  if (n.class === 'CONSTANT') {
    const v =
      (n.value as {
        value?: unknown;
        is_null?: boolean;
        type?: { id?: string; type_info?: { scale?: number } };
      }) ?? {};
    if (v.is_null) return { value: null };
    const type = v.type?.id ?? '';
    if (type === 'VARCHAR' && typeof v.value === 'string') return { value: v.value };
    if (type === 'DECIMAL') {
      const scaled = Number(v.value);
      if (!Number.isSafeInteger(scaled)) return undefined;
      return { value: scaled / 10 ** (v.type?.type_info?.scale ?? 0) };
    }
    if (NUMERIC_TYPES.has(type) && typeof v.value === 'number' && Number.isFinite(v.value))
      return { value: v.value };
    return undefined;
  }
  if (n.class === 'CAST' && !n.try_cast) {
    const target = String((n.cast_type as { id?: string } | undefined)?.id ?? '');
    const inner = constantOf(n.child);
    if (!inner || inner.value === null) return inner;
    const x = inner.value;
    if (NUMERIC_TYPES.has(target)) {
      if (typeof x === 'number' && Number.isInteger(x)) return inner;
      if (typeof x === 'string' && INTEGER_TEXT.test(x) && INTEGER_TYPES.has(target))
        return { value: Number(x) };
      return undefined;
    }
    if (target === 'DATE') return typeof x === 'string' && CANONICAL_DATE.test(x) ? inner : undefined;
    if (target === 'VARCHAR') return typeof x === 'string' ? inner : undefined;
    return undefined;
  }
  return undefined;
}

const columnOf = (n: unknown): string[] | undefined =>
  isNode(n) && n.class === 'COLUMN_REF' ? (n.column_names as string[]) : undefined;

function conjuncts(n: unknown): Node[] {
  if (!isNode(n)) return [];
  if (n.class === 'CONJUNCTION' && n.type === 'CONJUNCTION_AND')
    return (n.children as unknown[]).flatMap(conjuncts);
  return [n];
}

function predicateOf(n: Node): { column: string[]; preds: Omit<ColumnPredicate, 'column'>[] } | undefined {
  const op = OPS[String(n.type)];
  if (op && n.class === 'COMPARISON') {
    const lc = columnOf(n.left);
    const rc = columnOf(n.right);
    const lv = constantOf(n.left);
    const rv = constantOf(n.right);
    if (lc && rv) return { column: lc, preds: [{ op, values: [rv.value] }] };
    if (rc && lv) return { column: rc, preds: [{ op: FLIP[op]!, values: [lv.value] }] };
    return undefined;
  }
  if (n.type === 'COMPARE_IN') {
    const [first, ...rest] = (n.children as unknown[]) ?? [];
    const col = columnOf(first);
    const vals = rest.map(constantOf);
    if (col && vals.every((v) => v !== undefined)) {
      return { column: col, preds: [{ op: 'in', values: vals.map((v) => v!.value) }] };
    }
  }
  if (n.type === 'COMPARE_BETWEEN') {
    const col = columnOf(n.input);
    const lo = constantOf(n.lower);
    const hi = constantOf(n.upper);
    if (col && lo && hi) {
      return {
        column: col,
        preds: [
          { op: '>=', values: [lo.value] },
          { op: '<=', values: [hi.value] },
        ],
      };
    }
  }
  return undefined;
}

/** Base-table references directly in a FROM clause (through joins, not into subqueries). */
function fromRefs(n: unknown, out: { node: Node; alias: string }[], other: { count: number }): void {
  if (!isNode(n)) return;
  if (n.type === 'BASE_TABLE') {
    out.push({ node: n, alias: String(n.alias || n.table_name).toLowerCase() });
  } else if (n.type === 'JOIN') {
    fromRefs(n.left, out, other);
    fromRefs(n.right, out, other);
  } else if (n.type !== 'EMPTY') {
    other.count++;
  }
}

export function analyzeParseTree(json: string): SqlAnalysis {
  const tree = JSON.parse(json) as { error: boolean; error_message?: string; statements?: unknown[] };
  if (tree.error) {
    const m = tree.error_message ?? 'invalid query';
    return {
      ok: false,
      message: /Only SELECT/i.test(m) ? 'only read-only SELECT queries are allowed' : m,
    };
  }
  const statement = tree.statements?.[0];
  if (tree.statements?.length !== 1 || statement === undefined) {
    return { ok: false, message: 'exactly one SELECT statement is allowed' };
  }
  const refs = new Map<Node, TableReference>();
  let problem: string | undefined;

  const visit = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    if (!isNode(n)) return;
    if (n.type === 'TABLE_FUNCTION') {
      const fn = (n.function as Node | undefined)?.function_name;
      problem ??= `table functions such as ${String(fn)}() are not allowed: query the lake tables by name`;
    }
    if (n.type === 'BASE_TABLE' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(String(n.table_name))) {
      // `FROM 'file.parquet'` is a replacement scan: a file read in disguise.
      problem ??= `"${String(n.table_name)}" is not a table name: query the lake tables by name`;
    }
    if (n.type === 'BASE_TABLE' && !refs.has(n)) {
      refs.set(n, { table: String(n.table_name).toLowerCase(), predicates: [] });
    }
    if (n.type === 'SELECT_NODE') {
      const found: { node: Node; alias: string }[] = [];
      const other = { count: 0 };
      fromRefs(n.from_table, found, other);
      for (const f of found)
        if (!refs.has(f.node))
          refs.set(f.node, { table: String(f.node.table_name).toLowerCase(), predicates: [] });
      for (const c of conjuncts(n.where_clause)) {
        const p = predicateOf(c);
        if (!p) continue;
        let target: { node: Node } | undefined;
        if (p.column.length === 2) target = found.find((f) => f.alias === p.column[0]!.toLowerCase());
        else if (p.column.length === 1 && found.length === 1 && other.count === 0) target = found[0];
        if (!target) continue;
        const column = p.column[p.column.length - 1]!.toLowerCase();
        for (const pred of p.preds) refs.get(target.node)!.predicates.push({ column, ...pred });
      }
    }
    for (const v of Object.values(n)) if (typeof v === 'object') visit(v);
  };
  visit(statement);
  if (problem) return { ok: false, message: problem };
  return { ok: true, references: [...refs.values()] };
}

/**
 * Whether a file whose partition column has value `v` may hold rows satisfying `p`.
 * Conservative: true unless the comparison is certainly false.
 */
export function mayMatch(v: string | number | null, p: ColumnPredicate): boolean {
  if (v === null) return true;
  const cmp = (c: string | number | boolean | null): number | undefined => {
    if (c === null || typeof c === 'boolean') return undefined;
    if (typeof v === 'number') {
      // Text against a number column is cast by the engine: decided only for plain integers.
      if (typeof c === 'string')
        return INTEGER_TEXT.test(c) && Number.isSafeInteger(Number(c)) ? v - Number(c) : undefined;
      return v - c;
    }
    // Strings and dates (YYYY-MM-DD): only equality of text is decided, and a value that looks
    // like a date only against a canonical date (DATE '2026-2-1' equals 2026-02-01).
    if (typeof c !== 'string') return undefined;
    if (CANONICAL_DATE.test(v) && !CANONICAL_DATE.test(c)) return undefined;
    return v === c ? 0 : Number.NaN;
  };
  const results = p.values.map(cmp);
  if (results.some((r) => r === undefined)) return true;
  const nums = results as number[];
  const strict = typeof v === 'number';
  switch (p.op) {
    case '=':
    case 'in':
      return nums.some((r) => r === 0);
    case '<>':
      return nums.some((r) => r !== 0);
    case '<':
      return !strict || nums[0]! < 0;
    case '<=':
      return !strict || nums[0]! <= 0;
    case '>':
      return !strict || nums[0]! > 0;
    case '>=':
      return !strict || nums[0]! >= 0;
  }
}
