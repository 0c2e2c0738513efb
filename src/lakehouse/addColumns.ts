import { LakehouseError } from '../errors.js';
import type { TablePaths } from './paths.js';
import { commitMetadata, type LoadedTable, loadTable } from './tableMetadata.js';
import { duckTypeOf } from './tableSchema.js';
import type { IcebergField, TableMetadata } from './types.js';

/** A column to add: optional, as every column added to a table with data must be. */
export interface NewColumn {
  name: string;
  /** Iceberg primitive type: `string`, `long`, `int`, `double`, `boolean`, `date`, `timestamptz`, `decimal(P, S)`. */
  type: string;
}

const NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function currentFields(md: TableMetadata): IcebergField[] {
  const schema = md.schemas.find((s) => s['schema-id'] === md['current-schema-id']);
  if (!schema) throw new LakehouseError('NOT_FOUND', `table ${md.location}: no current schema`);
  return schema.fields;
}

/** The columns not in the table yet; a name already there with another type is an error. */
function columnsToAdd(table: string, fields: IcebergField[], columns: NewColumn[]): NewColumn[] {
  const out: NewColumn[] = [];
  for (const c of columns) {
    if (!NAME.test(c.name))
      throw new LakehouseError('CONFIG', `table ${table}: "${c.name}" is not a plain column name`);
    try {
      duckTypeOf(c.type);
    } catch {
      throw new LakehouseError(
        'CONFIG',
        `table ${table}: column "${c.name}" has type ${c.type}, which the lake cannot store`,
      );
    }
    const existing = fields.find((f) => f.name === c.name);
    if (existing && existing.type !== c.type) {
      throw new LakehouseError(
        'CONFIG',
        `table ${table}: column "${c.name}" exists as ${existing.type}; changing it to ${c.type} is a breaking change`,
      );
    }
    if (!existing && !out.some((o) => o.name === c.name)) out.push(c);
  }
  return out;
}

/**
 * The table's metadata with `columns` added as a new schema, per the Iceberg spec: each
 * new field gets a fresh id above `last-column-id` and is optional, the new schema is
 * appended to `schemas` and made current, and the name mapping learns the new names (files
 * without field ids are read through it). Data files are untouched: readers see the new
 * columns as null in files written before. Returns `undefined` when nothing is new.
 */
export function withAddedColumns(
  md: TableMetadata,
  table: string,
  columns: NewColumn[],
): TableMetadata | undefined {
  const fields = currentFields(md);
  const added = columnsToAdd(table, fields, columns).map(
    (c, i): IcebergField => ({
      id: md['last-column-id'] + 1 + i,
      name: c.name,
      required: false,
      type: c.type,
    }),
  );
  if (added.length === 0) return undefined;
  const schemaId = Math.max(...md.schemas.map((s) => s['schema-id'])) + 1;
  const all = [...fields, ...added];
  return {
    ...md,
    'last-column-id': md['last-column-id'] + added.length,
    'current-schema-id': schemaId,
    schemas: [...md.schemas, { type: 'struct', 'schema-id': schemaId, fields: all }],
    properties: {
      ...md.properties,
      'schema.name-mapping.default': JSON.stringify(all.map((f) => ({ 'field-id': f.id, names: [f.name] }))),
    },
  };
}

/**
 * Adds optional columns to a local Iceberg table (schema evolution through the metadata: a
 * new `vN.metadata.json`). Safe to run again: columns already there with the same type are
 * skipped. A concurrent commit by another writer is retried on the new version. A writer
 * whose transform does not produce the new columns fails its next commit: evolve the table
 * with the server stopped, then start it with the new transform.
 */
export async function addColumns(
  paths: TablePaths,
  columns: NewColumn[],
): Promise<{ added: string[]; table: LoadedTable }> {
  const table = `${paths.namespace}.${paths.table}`;
  for (let attempt = 0; attempt < 10; attempt++) {
    const base = await loadTable(paths);
    if (!base) throw new LakehouseError('NOT_FOUND', `table ${table} does not exist`);
    const next = withAddedColumns(base.metadata, table, columns);
    if (!next) return { added: [], table: base };
    const committed = await commitMetadata(paths, base, next);
    if (committed) {
      const before = new Set(currentFields(base.metadata).map((f) => f.name));
      return {
        added: currentFields(next)
          .filter((f) => !before.has(f.name))
          .map((f) => f.name),
        table: committed,
      };
    }
  }
  throw new LakehouseError(
    'CONCURRENCY_CONFLICT',
    `table ${table}: gave up adding columns after 10 concurrent commits`,
  );
}
