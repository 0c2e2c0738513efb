import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultCatalog } from '../domain/defaultCatalog.js';
import type { Catalog } from '../domain/defineCatalog.js';
import { isLakehouseError, LakehouseError } from '../errors.js';
import { type StreamRelaySettings, validateConfig } from './defineConfig.js';

/** Config file names looked for in the project folder, in this order. */
export const CONFIG_FILES = [
  'lakehouse.config.ts',
  'lakehouse.config.mts',
  'lakehouse.config.js',
  'lakehouse.config.mjs',
];

/** Default schema snapshot file, relative to the project folder. */
export const DEFAULT_SNAPSHOT = 'lakehouse/schema.snapshot.json';

/** Where to look for the config. */
export interface LoadConfigOptions {
  /** Config file (`--config`); default `LAKEHOUSE_CONFIG`, else the first of {@link CONFIG_FILES} in `cwd`. */
  path?: string;
  /** Project folder. Default `process.cwd()`. */
  cwd?: string;
  /** Environment (for `LAKEHOUSE_CONFIG`). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A loaded, validated config: the same object for the same file within a process. */
export interface ResolvedConfig {
  /** Absolute path of the config file, or undefined when none was found (the default catalog). */
  file: string | undefined;
  catalog: Catalog;
  /** Absolute path of the schema snapshot file. */
  snapshotPath: string;
  /** Relay settings of a stream: defaults, then the stream's own `onPoison`, then `relay.streams[name]`. */
  relayFor(stream: string): StreamRelaySettings;
}

const loaded = new Map<string, Promise<ResolvedConfig>>();

function findConfig(options: LoadConfigOptions): string | undefined {
  const cwd = options.cwd ?? process.cwd();
  const given = options.path ?? (options.env ?? process.env).LAKEHOUSE_CONFIG;
  if (given) {
    const file = resolve(cwd, given);
    if (!existsSync(file)) throw new LakehouseError('CONFIG', `config ${given}: file not found (${file})`);
    return file;
  }
  return CONFIG_FILES.map((f) => resolve(cwd, f)).find((f) => existsSync(f));
}

/**
 * TypeScript configs go through tsx's ESM API, imported only then: a `.js`/`.mjs` config
 * (or none) does not load esbuild.
 */
async function importConfig(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  if (/\.[mc]?ts$/.test(file)) {
    const { tsImport } = await import('tsx/esm/api');
    return tsImport(url, import.meta.url);
  }
  return import(url);
}

async function load(file: string): Promise<ResolvedConfig> {
  let mod: Record<string, unknown>;
  try {
    mod = await importConfig(file);
  } catch (e) {
    // tsx loads a .ts config's imports of this package as separate module instances, so its
    // errors are recognized by name and code, not by instanceof.
    const ours = isLakehouseError(e) || ((e as Error)?.name === 'LakehouseError' && 'code' in (e as object));
    const problem = ours
      ? (e as Error).message
      : `does not load: ${(e as Error)?.message ?? String(e)}${hint(e)}`;
    throw new LakehouseError('CONFIG', `config ${file}: ${problem}`, { cause: e });
  }
  const exported = mod.default ?? namedExports(mod);
  try {
    const config = validateConfig(exported);
    return resolved(
      file,
      config.catalog,
      resolve(dirname(file), config.schemaSnapshot ?? DEFAULT_SNAPSHOT),
      config.relay,
    );
  } catch (e) {
    throw new LakehouseError('CONFIG', `config ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/** What to do about the usual reason an ESM config does not load in a CommonJS package. */
function hint(e: unknown): string {
  return /Cannot use import statement outside a module/.test(String((e as Error)?.message))
    ? ' (name it lakehouse.config.mjs or .ts, or set "type": "module" in package.json)'
    : '';
}

/** A config without a default export: its named exports `catalog`, `relay`, `schemaSnapshot`. */
function namedExports(mod: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    ['catalog', 'relay', 'schemaSnapshot'].filter((k) => mod[k] !== undefined).map((k) => [k, mod[k]]),
  );
}

function resolved(
  file: string | undefined,
  catalog: Catalog,
  snapshotPath: string,
  relay: { defaults?: StreamRelaySettings; streams?: Record<string, StreamRelaySettings> } = {},
): ResolvedConfig {
  return Object.freeze({
    file,
    catalog,
    snapshotPath,
    relayFor: (stream: string) => {
      const own = catalog.get(stream)?.onPoison;
      return { ...relay.defaults, ...(own ? { onPoison: own } : {}), ...relay.streams?.[stream] };
    },
  });
}

/**
 * Loads the project's config: `--config PATH`, else `LAKEHOUSE_CONFIG`, else
 * `lakehouse.config.ts`/`.mts`/`.js`/`.mjs` in the project folder; with none, the default
 * catalog (Company Manager's six streams). Each file is loaded once per process, so every
 * caller gets the same catalog. A config that does not load or validate is a
 * `LakehouseError` (code `CONFIG`) naming the file and the problem.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const file = findConfig(options);
  if (!file)
    return resolved(undefined, defaultCatalog, resolve(options.cwd ?? process.cwd(), DEFAULT_SNAPSHOT));
  let p = loaded.get(file);
  if (!p) {
    p = load(file);
    loaded.set(file, p);
    p.catch(() => loaded.delete(file));
  }
  return p;
}
