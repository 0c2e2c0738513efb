import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * `npx tsx bench/configLoad.ts [runs]` (after `npm run build`): wall time of
 * `lakehouse schema check --json` in a project with no config (the baseline, same run),
 * a `lakehouse.config.mjs` and a `lakehouse.config.ts` (loaded through tsx). Prints the
 * median of each and the cost of the config over the baseline.
 */
const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin/lakehouse.js');
const runs = Number(process.argv[2] ?? 7);

const CONFIG = `import { defaultCatalog, defineCatalog, defineConfig } from '@company-manager/lakehouse/config';
export default defineConfig({ catalog: defineCatalog([...defaultCatalog.list]) });
`;

function project(configFile?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lakehouse-bench-config-'));
  mkdirSync(join(dir, 'node_modules/@company-manager'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules/@company-manager/lakehouse'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  if (configFile) writeFileSync(join(dir, configFile), CONFIG);
  execFileSync(process.execPath, [CLI, 'schema', 'snapshot'], {
    cwd: dir,
    env: { ...process.env, LAKEHOUSE_CONFIG: '' },
  });
  return dir;
}

function medianMs(dir: string): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    execFileSync(process.execPath, [CLI, 'schema', 'check', '--json'], {
      cwd: dir,
      env: { ...process.env, LAKEHOUSE_CONFIG: '' },
    });
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

const dirs = { none: project(), mjs: project('lakehouse.config.mjs'), ts: project('lakehouse.config.ts') };
try {
  const base = medianMs(dirs.none);
  const out = { runs, baselineMs: base, mjsMs: medianMs(dirs.mjs), tsMs: medianMs(dirs.ts) };
  process.stdout.write(
    `${JSON.stringify({ ...out, mjsOverBaseline: out.mjsMs / base, tsOverBaseline: out.tsMs / base })}\n`,
  );
} finally {
  for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
}
