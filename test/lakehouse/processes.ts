import { type ChildProcess, spawn } from 'node:child_process';
import { CLI } from '../support/cli.js';

const children = new Set<ChildProcess>();

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote to standard error so far. */
  stderr(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

/** Starts `lakehouse serve` as a child process and waits for its "listening" line. */
export async function serve(
  warehouse: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--warehouse', warehouse, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LAKEHOUSE_SINK_TOKEN: '', LAKEHOUSE_DASHBOARD_TOKEN: '', ...env },
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /"listening":"([^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  return { child, url, stderr: () => err, exited };
}

export function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** SIGKILLs every child a test started (call from afterEach). */
export async function killAll(): Promise<void> {
  for (const c of children) await kill9(c);
  children.clear();
}
