import type { SchemaSnapshot, SnapshotField, SnapshotStream } from './schemaSnapshot.js';

/** What changed between the deployed snapshot and the catalog. */
export type SchemaChangeKind =
  | 'stream_added'
  | 'stream_removed'
  | 'field_added'
  | 'field_removed'
  | 'type_changed'
  | 'made_required'
  | 'made_nullable'
  | 'values_added'
  | 'values_removed'
  | 'partition_changed';

/** One classified change. */
export interface SchemaChange {
  kind: SchemaChangeKind;
  /** `additive` changes are allowed; `breaking` ones are refused. */
  severity: 'additive' | 'breaking';
  stream: string;
  /** The field concerned, when the change is about one field. */
  field?: string;
  /** The change in words. */
  message: string;
  /** For a breaking change: the documented way to get there without breaking readers. */
  alternative?: string;
}

const NEW_STREAM = (s: string) =>
  `create a new versioned stream (e.g. ${s}_v2) with the new shape, emit to both while readers move, then retire ${s}`;

const ALTERNATIVES: Partial<Record<SchemaChangeKind, (stream: string, field?: string) => string>> = {
  stream_removed: (s) =>
    `keep ${s} in the catalog until its outbox is drained and its readers have moved; then write a new snapshot with --allow-breaking`,
  field_removed: (s, f) => `keep "${f}" as a nullable() field and stop setting it; or ${NEW_STREAM(s)}`,
  type_changed: (s, f) =>
    `add a new nullable field with the new type (e.g. ${f}_v2) and fill both while readers move; or ${NEW_STREAM(s)}`,
  made_required: (s, f) => `keep "${f}" nullable and require the value in your own code; or ${NEW_STREAM(s)}`,
  values_removed: (s, f) =>
    `keep the values in the enum of "${f}" (older events and rows carry them) and stop emitting them; or ${NEW_STREAM(s)}`,
  partition_changed: (s) => `Cloudflare sinks and tables cannot be altered: ${NEW_STREAM(s)}`,
  field_added: (s, f) =>
    `make "${f}" nullable() (older events and rows have no value for it); or ${NEW_STREAM(s)}`,
};

function change(
  kind: SchemaChangeKind,
  severity: SchemaChange['severity'],
  stream: string,
  field: string | undefined,
  message: string,
): SchemaChange {
  const alternative = severity === 'breaking' ? ALTERNATIVES[kind]?.(stream, field) : undefined;
  return {
    kind,
    severity,
    stream,
    ...(field ? { field } : {}),
    message,
    ...(alternative ? { alternative } : {}),
  };
}

function diffField(stream: string, before: SnapshotField, after: SnapshotField): SchemaChange[] {
  const f = before.name;
  const out: SchemaChange[] = [];
  if (before.type !== after.type) {
    out.push(
      change(
        'type_changed',
        'breaking',
        stream,
        f,
        `field "${f}" changed type ${before.type} -> ${after.type}`,
      ),
    );
  }
  if (before.nullable && !after.nullable) {
    out.push(
      change('made_required', 'breaking', stream, f, `field "${f}" changed from optional to required`),
    );
  } else if (!before.nullable && after.nullable) {
    out.push(
      change('made_nullable', 'additive', stream, f, `field "${f}" is now optional (readers see nulls)`),
    );
  }
  const removed = (before.values ?? []).filter((v) => !after.values?.includes(v));
  const added = (after.values ?? []).filter((v) => !before.values?.includes(v));
  if (before.values && after.values && removed.length > 0) {
    out.push(
      change('values_removed', 'breaking', stream, f, `field "${f}" no longer accepts ${removed.join(', ')}`),
    );
  }
  if (before.values && after.values && added.length > 0) {
    out.push(change('values_added', 'additive', stream, f, `field "${f}" also accepts ${added.join(', ')}`));
  }
  return out;
}

function renameHint(removed: SnapshotField, added: SnapshotField[]): string {
  const same = added.filter((a) => a.type === removed.type);
  return same.length === 1 ? ` (renamed to "${same[0]?.name}"? a rename is a removal for readers)` : '';
}

function diffFields(stream: string, before: SnapshotField[], after: SnapshotField[]): SchemaChange[] {
  const old = new Map(before.map((f) => [f.name, f]));
  const now = new Map(after.map((f) => [f.name, f]));
  const added = after.filter((f) => !old.has(f.name));
  const out: SchemaChange[] = [];
  for (const f of before) {
    const next = now.get(f.name);
    if (next) out.push(...diffField(stream, f, next));
    else
      out.push(
        change(
          'field_removed',
          'breaking',
          stream,
          f.name,
          `field "${f.name}" was removed${renameHint(f, added)}`,
        ),
      );
  }
  for (const f of added) {
    out.push(
      f.nullable
        ? change('field_added', 'additive', stream, f.name, `new optional field "${f.name}" (${f.type})`)
        : change('field_added', 'breaking', stream, f.name, `new required field "${f.name}" (${f.type})`),
    );
  }
  return out;
}

function diffLayout(stream: string, before: SnapshotStream, after: SnapshotStream): SchemaChange[] {
  const layout = (s: SnapshotStream) =>
    `table ${s.lake.table}, partitioned by [${s.lake.partition.join(', ')}], key ${s.partitionKey}, time ${s.timeField}`;
  if (layout(before) === layout(after)) return [];
  return [
    change(
      'partition_changed',
      'breaking',
      stream,
      undefined,
      `layout changed: ${layout(before)} -> ${layout(after)}`,
    ),
  ];
}

/**
 * Classifies every difference between the deployed snapshot and the catalog's snapshot.
 * Additive: a new stream, a new optional field, a field made optional, new enum values.
 * Breaking: a removed stream or field (a rename is a removal), a type change, optional ->
 * required, a new required field, removed enum values, a changed table, partitioning,
 * partition key or time field. Breaking changes carry the documented alternative.
 */
export function diffSchemas(before: SchemaSnapshot, after: SchemaSnapshot): SchemaChange[] {
  const out: SchemaChange[] = [];
  for (const [name, old] of Object.entries(before.streams)) {
    const next = after.streams[name];
    if (!next) {
      out.push(change('stream_removed', 'breaking', name, undefined, `stream ${name} was removed`));
      continue;
    }
    out.push(...diffLayout(name, old, next), ...diffFields(name, old.fields, next.fields));
  }
  for (const name of Object.keys(after.streams)) {
    if (!Object.hasOwn(before.streams, name))
      out.push(change('stream_added', 'additive', name, undefined, `new stream ${name}`));
  }
  return out;
}
