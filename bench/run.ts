import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '../src/config.js';
import { benchDrain } from './drain.js';
import { benchLake } from './lake.js';
import { benchLatency } from './latency.js';
import {
  type BenchConfig,
  type Figure,
  machineFacts,
  progress,
  q,
  startBenchSink,
  withClient,
} from './lib.js';
import { benchPeer } from './peer.js';
import { benchWriter } from './writer.js';

/**
 * `npm run bench [-- --quick] [-- --json] [-- --only writer,drain,peer,latency,lake]`.
 * Every figure is measured against a baseline taken in the same run on the same machine,
 * because the machine is shared: compare ratios across runs, not absolute numbers.
 */
function parseArgs(argv: string[]): BenchConfig {
  const only = argv.find((a) => a.startsWith('--only='))?.slice(7) ?? '';
  return {
    quick: argv.includes('--quick'),
    json: argv.includes('--json'),
    databaseUrl: process.env.DATABASE_URL || DEFAULT_DATABASE_URL,
    redisUrl: process.env.REDIS_URL || DEFAULT_REDIS_URL,
    schema: `bench_${Date.now()}`,
    only: only ? only.split(',') : [],
  };
}

const ROOT = new URL('../', import.meta.url);

function cell(f: Figure): string[] {
  const fmt = (v: number | undefined) => (v === undefined ? '' : v.toLocaleString('en'));
  return [
    `${fmt(f.value)} ${f.unit}`,
    f.baseline === undefined ? '' : `${fmt(f.baseline)} ${f.unit}`,
    f.ratio === undefined ? '' : String(f.ratio),
    f.goal ?? '',
    f.goalMet === undefined ? '' : f.goalMet ? 'met' : '**missed**',
  ];
}

function table(
  result: { mode: string; date: string; machine: Record<string, unknown> },
  figures: Record<string, Figure>,
) {
  const lines = [
    `Run: ${result.date} (${result.mode}); machine: ${Object.entries(result.machine)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    '',
    '| figure | value | baseline (same run) | ratio | goal | status |',
    '| --- | --- | --- | --- | --- | --- |',
    ...Object.entries(figures).map(([k, f]) => `| ${k} | ${cell(f).join(' | ')} |`),
  ];
  return lines.join('\n');
}

async function updateBenchmarksMd(text: string): Promise<void> {
  const file = fileURLToPath(new URL('BENCHMARKS.md', ROOT));
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  let md: string;
  try {
    md = await readFile(file, 'utf8');
  } catch {
    md = `# Benchmarks\n\n${start}\n${end}\n`;
  }
  const a = md.indexOf(start);
  const b = md.indexOf(end);
  if (a < 0 || b < 0) md = `${md}\n${start}\n${end}\n`;
  const i = md.indexOf(start) + start.length;
  const j = md.indexOf(end);
  await writeFile(file, `${md.slice(0, i)}\n${text}\n${md.slice(j)}`);
  // biome formats Markdown tables; keep the generated file lint-clean (best effort).
  const biome = fileURLToPath(new URL('node_modules/.bin/biome', ROOT));
  await new Promise<void>((r) => execFile(biome, ['format', '--write', file], () => r()));
}

async function main(): Promise<void> {
  const cfg = parseArgs(process.argv.slice(2));
  const wants = (name: string) => cfg.only.length === 0 || cfg.only.includes(name);
  const machine = await machineFacts(cfg.databaseUrl);
  const date = new Date().toISOString();
  progress(`${cfg.quick ? 'quick' : 'full'} run, schema prefix ${cfg.schema}`);
  const figures: Record<string, Figure> = {};
  const schemas: string[] = [];
  const schemaFor = (suffix: string) => {
    const s = `${cfg.schema}_${suffix}`;
    schemas.push(s);
    return s;
  };
  const sink = await startBenchSink();
  const t0 = performance.now();
  try {
    if (wants('writer')) {
      const s = schemaFor('writer');
      const { migrate } = await import('../src/outbox/migrate.js');
      await migrate(cfg.databaseUrl, { schema: s });
      Object.assign(figures, await benchWriter(cfg, s));
    }
    if (wants('drain')) Object.assign(figures, await benchDrain(cfg, sink, schemaFor));
    if (wants('peer')) Object.assign(figures, await benchPeer(cfg, sink, schemaFor('peer'), figures));
    if (wants('latency')) Object.assign(figures, await benchLatency(cfg, sink, schemaFor));
    if (wants('lake')) Object.assign(figures, await benchLake(cfg));
  } finally {
    await sink.close();
    await withClient(cfg.databaseUrl, async (c) => {
      for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${q(s)} CASCADE`);
    });
    // The run's BullMQ queues (the CLI relay's default name, and the latency relay's).
    const redis = new Redis(cfg.redisUrl, { maxRetriesPerRequest: null });
    for (const s of schemas) {
      for (const name of [`lakehouse-relay-${s}`, `${s}_queue`]) {
        const queue = new Queue(name, { connection: redis });
        await queue.obliterate({ force: true }).catch(() => {});
        await queue.close();
      }
    }
    redis.disconnect();
  }
  const result = {
    date,
    mode: cfg.quick ? 'quick' : 'full',
    durationSeconds: Math.round((performance.now() - t0) / 1000),
    machine,
    figures,
  };
  const dir = fileURLToPath(new URL('bench/results/', ROOT));
  await mkdir(dir, { recursive: true });
  const file = `${dir}${date.slice(0, 19).replaceAll(':', '-')}${cfg.quick ? '-quick' : ''}.json`;
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  if (cfg.only.length === 0) await updateBenchmarksMd(table(result, figures));
  progress(`done in ${result.durationSeconds}s; wrote bench/results/${file.slice(dir.length)}`);
  if (cfg.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else process.stdout.write(`${table(result, figures)}\n`);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
