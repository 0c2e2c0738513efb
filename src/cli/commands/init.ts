import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { STARTER_CONFIG } from '../../config/starterConfig.js';
import { EXIT } from '../context.js';

/** `lakehouse init`: writes a starter config, never over an existing file. */
export function initCommand(program: Command): void {
  program
    .command('init')
    .description(
      'Write a starter lakehouse.config.ts (the six default streams and an example of your own); never overwrites',
    )
    .option('--config <path>', 'file to write (.ts, .mts, .js or .mjs)', 'lakehouse.config.ts')
    .option('--json', 'print {"written": path} as JSON')
    .action((opts: { config: string; json?: boolean }) => {
      const file = resolve(opts.config);
      if (!/\.(m?ts|m?js)$/.test(file)) {
        process.stderr.write(`lakehouse: init: ${opts.config}: use a .ts, .mts, .js or .mjs file name\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      if (existsSync(file)) {
        process.stderr.write(
          `lakehouse: init: ${opts.config} already exists; not overwritten (edit it, or remove it first)\n`,
        );
        process.exitCode = EXIT.failed;
        return;
      }
      writeFileSync(file, STARTER_CONFIG, { flag: 'wx' });
      if (opts.json) process.stdout.write(`${JSON.stringify({ written: file })}\n`);
      else process.stdout.write(`wrote ${opts.config}; check it with: lakehouse schema check\n`);
    });
}
