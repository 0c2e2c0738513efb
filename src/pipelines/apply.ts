import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LakehouseError } from '../errors.js';
import { type PipelinePlan, type WranglerCommand, writePlanFiles } from './plan.js';

/** Kinds of Cloudflare resources a plan creates, in creation order. */
export type ResourceKind = 'stream' | 'sink' | 'pipeline';

/** What `apply` did (or would do) about one resource. */
export interface ApplyStep {
  kind: ResourceKind;
  name: string;
  /**
   * `exists`: found in the account, left alone. `would create`: dry run. `created`.
   * `failed`: wrangler failed (see `error`). `skipped`: not tried because a resource it
   * needs failed.
   */
  status: 'exists' | 'would create' | 'created' | 'failed' | 'skipped';
  /** The wrangler command, with `$VAR` placeholders. */
  command: string;
  error?: string;
}

/** Options of {@link applyPlan}. */
export interface ApplyOptions {
  /** Create what is missing; without it nothing is created. Default false. */
  yes?: boolean;
  /** Environment for wrangler and the `$VAR` placeholders. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Called with each step as soon as it is decided (progress output). */
  onStep?: (step: ApplyStep) => void;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The wrangler command prefix: a `wrangler` executable on `PATH`, else `npx wrangler`
 * (which uses the project's wrangler, or downloads it).
 */
export function findWrangler(env: NodeJS.ProcessEnv = process.env): string[] {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, process.platform === 'win32' ? 'wrangler.cmd' : 'wrangler');
    try {
      accessSync(candidate, constants.X_OK);
      return [candidate];
    } catch {
      // not in this directory
    }
  }
  return ['npx', 'wrangler'];
}

function run(cmd: string[], args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    const [file, ...pre] = cmd as [string, ...string[]];
    const child = spawn(file, [...pre, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    child.on('error', (e) => resolve({ code: null, stdout, stderr: `${stderr}${e.message}` }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Names in a wrangler `list --json` answer. Accepts an array of names or of objects with
 * `name`, bare or under `result`/`streams`/`sinks`/`pipelines`, after any log lines
 * wrangler prints first. `undefined` when the answer is not such JSON.
 */
export function parseListedNames(stdout: string): Set<string> | undefined {
  const start = stdout.search(/^\s*[[{]/m);
  if (start < 0) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(stdout.slice(start));
  } catch {
    return undefined;
  }
  const obj = data as Record<string, unknown>;
  const list = Array.isArray(data)
    ? data
    : [obj?.result, obj?.streams, obj?.sinks, obj?.pipelines].find((v) => Array.isArray(v));
  if (!Array.isArray(list)) return undefined;
  const names = list
    .map((item) => (typeof item === 'string' ? item : (item as { name?: unknown })?.name))
    .filter((n): n is string => typeof n === 'string');
  return new Set(names);
}

const LIST_ARGS: Record<ResourceKind, string[]> = {
  stream: ['pipelines', 'streams', 'list', '--json'],
  sink: ['pipelines', 'sinks', 'list', '--json'],
  pipeline: ['pipelines', 'list', '--json'],
};

/** Replaces `$VAR` arguments with their values; names the first one that is not set. */
function resolveArgs(c: WranglerCommand, env: NodeJS.ProcessEnv): string[] {
  return c.args.map((a) => {
    const m = /^\$([A-Z_][A-Z0-9_]*)$/.exec(a);
    if (!m) return a;
    const v = env[m[1]!];
    if (!v) {
      throw new LakehouseError(
        'CONFIG',
        `${m[1]} is not set; it is needed for: ${c.text} (see "Deploying to Cloudflare" in the docs)`,
      );
    }
    return v;
  });
}

/**
 * Creates a plan's streams, sinks and pipelines with wrangler, idempotently: it first lists
 * what the account has (`wrangler pipelines streams list --json`, ...) and leaves existing
 * names alone. When a list fails or its answer is not JSON, it tries to create and counts
 * an "already exists" failure as existing. Without `yes` it only reports what it would do
 * (the plan's schema and SQL files are written in both cases).
 * Existing resources are not compared with the plan: Cloudflare cannot alter a stream
 * schema, sink or pipeline SQL; delete and re-apply to change one.
 */
export async function applyPlan(
  plan: readonly PipelinePlan[],
  options: ApplyOptions = {},
): Promise<ApplyStep[]> {
  const env = options.env ?? process.env;
  const wrangler = findWrangler(env);
  const existing = {} as Record<ResourceKind, Set<string> | undefined>;
  for (const kind of ['stream', 'sink', 'pipeline'] as const) {
    const r = await run(wrangler, LIST_ARGS[kind], env);
    existing[kind] = r.code === 0 ? parseListedNames(r.stdout) : undefined;
  }

  const todo = plan.flatMap((p) =>
    (['stream', 'sink', 'pipeline'] as const).map((kind) => ({
      kind,
      name: kind === 'stream' ? p.stream : kind === 'sink' ? p.sink : p.pipeline,
      command: p.commands[kind],
      plan: p,
    })),
  );
  // Fail before creating anything when a placeholder of a needed command is not set.
  const resolved = new Map<string, string[]>();
  if (options.yes) {
    for (const t of todo) {
      if (!existing[t.kind]?.has(t.name)) resolved.set(`${t.kind}:${t.name}`, resolveArgs(t.command, env));
    }
  }
  writePlanFiles(plan);

  const steps: ApplyStep[] = [];
  const failed = new Set<string>();
  const emit = (step: ApplyStep) => {
    steps.push(step);
    options.onStep?.(step);
  };
  for (const t of todo) {
    const base = { kind: t.kind, name: t.name, command: t.command.text };
    if (existing[t.kind]?.has(t.name)) {
      emit({ ...base, status: 'exists' });
      continue;
    }
    if (!options.yes) {
      emit({ ...base, status: 'would create' });
      continue;
    }
    if (
      t.kind === 'pipeline' &&
      (failed.has(`stream:${t.plan.stream}`) || failed.has(`sink:${t.plan.sink}`))
    ) {
      emit({ ...base, status: 'skipped', error: 'its stream or sink could not be created' });
      continue;
    }
    const r = await run(wrangler, resolved.get(`${t.kind}:${t.name}`) ?? [], env);
    const output = `${r.stderr}\n${r.stdout}`.trim();
    if (r.code === 0) emit({ ...base, status: 'created' });
    else if (/already exists/i.test(output)) emit({ ...base, status: 'exists' });
    else {
      failed.add(`${t.kind}:${t.name}`);
      emit({ ...base, status: 'failed', error: output.slice(0, 500) || `wrangler exited with ${r.code}` });
    }
  }
  return steps;
}
