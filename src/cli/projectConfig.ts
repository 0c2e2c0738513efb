import { InvalidArgumentError } from 'commander';
import { loadConfig, type ResolvedConfig } from '../config/loadConfig.js';

/** Commands that declare `--config` themselves (and `init`, which writes the file). */
const OWN_CONFIG_OPTION = new Set(['schema', 'init']);

let configPath: string | undefined;

/**
 * Takes `--config PATH` (or `--config=PATH`) out of the command line, wherever it stands, so
 * every command accepts it without declaring it; `schema` keeps its own. Returns the rest.
 * A `--config` without a value is a usage error.
 */
export function takeConfigOption(argv: string[]): string[] {
  const args = argv.slice(2);
  const command = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '--config');
  if (command !== undefined && OWN_CONFIG_OPTION.has(command)) return argv;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      rest.push(...args.slice(i));
      break;
    }
    if (a === '--config' || a.startsWith('--config=')) {
      const value = a === '--config' ? args[++i] : a.slice('--config='.length);
      if (!value || value.startsWith('-')) throw new InvalidArgumentError('--config needs a file path');
      configPath = value;
    } else rest.push(a);
  }
  return [...argv.slice(0, 2), ...rest];
}

/**
 * The project's config: `--config PATH`, else `LAKEHOUSE_CONFIG`, else
 * `lakehouse.config.ts|.mts|.js|.mjs` in the working folder, else the default catalog.
 * Loaded once per process (`loadConfig` caches per file), so every part of a command sees
 * the same catalog.
 */
export function projectConfig(): Promise<ResolvedConfig> {
  return loadConfig({ path: configPath });
}
