import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LakehouseError } from '../errors.js';
import { type PipelinesStreamSchema, streamSchema } from './streamSchema.js';
import { transformFilter } from './transformFilter.js';
import type { PipelineDefinition } from './types.js';

/** Environment variable holding the R2 bucket of the sinks (placeholder in printed commands). */
export const BUCKET_ENV = 'LAKEHOUSE_R2_BUCKET';
/** Environment variable holding the R2 Data Catalog token of the sinks. */
export const CATALOG_TOKEN_ENV = 'LAKEHOUSE_R2_CATALOG_TOKEN';
/** Cloudflare's default and our default roll interval, in seconds. */
export const DEFAULT_ROLL_INTERVAL = 300;
/** Cloudflare's minimum roll interval for r2-data-catalog sinks, in seconds. */
export const MIN_ROLL_INTERVAL = 60;

/** Options of {@link buildPlan}. */
export interface PlanOptions {
  /** Directory the schema and SQL files are written to; commands refer to files there. Default `.`. */
  outDir?: string;
  /** Seconds between files written by each sink (min 60). Default 300. */
  rollIntervalSeconds?: number;
}

/** A `wrangler` invocation: `args` follow `wrangler`; `$VAR` arguments are read from the environment. */
export interface WranglerCommand {
  args: string[];
  /** The command as a shell line, with `$VAR` placeholders (never secrets). */
  text: string;
}

/** Everything to create in Cloudflare for one pipeline. */
export interface PipelinePlan {
  pipeline: string;
  stream: string;
  sink: string;
  namespace: string;
  table: string;
  partition: string[];
  /** The transform's WHERE: records not matching it never reach the table (null: keeps all). */
  filter: string | null;
  files: {
    /** `<stream>.schema.json`: the stream schema. */
    schema: { path: string; content: string };
    /** `<pipeline>.sql`: `INSERT INTO <sink> SELECT ... FROM <stream> ...`. */
    sql: { path: string; content: string };
  };
  commands: { stream: WranglerCommand; sink: WranglerCommand; pipeline: WranglerCommand };
}

/** Name of the sink that writes a pipeline's table. */
export function sinkName(def: PipelineDefinition): string {
  return `${def.destination.table}_sink`;
}

/**
 * The Cloudflare pipeline SQL of a definition: its transform reading from the stream
 * instead of `source`, inserted into the sink.
 */
export function pipelineSql(def: PipelineDefinition): string {
  const select = def.transform.trim().replace(/;\s*$/, '');
  const fromStream = select.replace(/\bFROM(\s+)source\b/gi, (_m, ws: string) => `FROM${ws}${def.stream}`);
  return `INSERT INTO ${sinkName(def)}\n${fromStream};\n`;
}

const SAFE_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;
const PLACEHOLDER = /^\$[A-Z_][A-Z0-9_]*$/;

/** Quotes an argument for a POSIX shell line; `$VAR` placeholders stay expandable. */
function shellWord(arg: string): string {
  if (SAFE_ARG.test(arg) || PLACEHOLDER.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

function command(args: string[]): WranglerCommand {
  return { args, text: ['wrangler', ...args].map(shellWord).join(' ') };
}

function schemaJson(schema: PipelinesStreamSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/**
 * The files and `wrangler` commands that create each pipeline's stream, sink and
 * pipeline, in that order (a pipeline needs both of the others).
 */
export function buildPlan(defs: readonly PipelineDefinition[], options: PlanOptions = {}): PipelinePlan[] {
  const outDir = options.outDir ?? '.';
  const roll = options.rollIntervalSeconds ?? DEFAULT_ROLL_INTERVAL;
  if (!Number.isInteger(roll) || roll < MIN_ROLL_INTERVAL) {
    throw new LakehouseError(
      'CONFIG',
      `roll interval must be a whole number of seconds, at least ${MIN_ROLL_INTERVAL}; got ${roll}`,
    );
  }
  return defs.map((def) => {
    const sink = sinkName(def);
    const schemaPath = join(outDir, `${def.stream}.schema.json`);
    const sqlPath = join(outDir, `${def.name}.sql`);
    const d = def.destination;
    const sinkArgs =
      d.type === 'r2-data-catalog'
        ? [
            '--type',
            'r2-data-catalog',
            '--bucket',
            `$${BUCKET_ENV}`,
            '--namespace',
            d.namespace,
            '--table',
            d.table,
            '--roll-interval',
            String(roll),
            '--compression',
            'zstd',
            '--catalog-token',
            `$${CATALOG_TOKEN_ENV}`,
          ]
        : [
            '--type',
            'r2',
            '--bucket',
            `$${BUCKET_ENV}`,
            '--path',
            `${d.namespace}/${d.table}`,
            '--format',
            d.format === 'json' ? 'json' : 'parquet',
            '--roll-interval',
            String(roll),
          ];
    return {
      pipeline: def.name,
      stream: def.stream,
      sink,
      namespace: d.namespace,
      table: d.table,
      partition: [...d.partition],
      filter: transformFilter(def) ?? null,
      files: {
        schema: { path: schemaPath, content: schemaJson(streamSchema(def.stream)) },
        sql: { path: sqlPath, content: pipelineSql(def) },
      },
      commands: {
        stream: command(['pipelines', 'streams', 'create', def.stream, '--schema-file', schemaPath]),
        sink: command(['pipelines', 'sinks', 'create', sink, ...sinkArgs]),
        pipeline: command(['pipelines', 'create', def.name, '--sql-file', sqlPath]),
      },
    };
  });
}

/** Writes a plan's schema and SQL files (creating their directories). */
export function writePlanFiles(plan: readonly PipelinePlan[]): void {
  for (const p of plan) {
    for (const f of [p.files.schema, p.files.sql]) {
      mkdirSync(dirname(f.path), { recursive: true });
      writeFileSync(f.path, f.content);
    }
  }
}
