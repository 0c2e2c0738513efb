import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * A user's project outside the package (a temporary folder): its own package.json, the
 * package and zod linked into node_modules, as `npm install` would leave them.
 */
export function makeProject(prefix = 'lakehouse-streams-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'node_modules/@company-manager'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules/@company-manager/lakehouse'), 'dir');
  symlinkSync(join(ROOT, 'node_modules/zod'), join(dir, 'node_modules/zod'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{"name":"shop","private":true,"type":"module"}\n');
  return dir;
}
