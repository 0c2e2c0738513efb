import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { STREAM_NAMES } from '../../src/domain/catalog.js';
import { pipelines } from '../../src/pipelines/definitions.js';
import { streamSchema } from '../../src/pipelines/streamSchema.js';
import { runCli } from '../support/cli.js';

const CLOUDFLARE_NAME = /^[a-zA-Z0-9_]+$/;

/**
 * A stand-in `wrangler`: records each call (arguments, and the content of the file a
 * create command names) in calls.ndjson and keeps created names in state.json. Streams
 * list as a JSON array, sinks as {"result":[...]}; `pipelines list` fails, so apply has
 * to rely on "already exists" for pipelines.
 */
const FAKE_WRANGLER = `#!/usr/bin/env node
const fs = require('node:fs');
const path = require('node:path');
const dir = __dirname;
const stateFile = path.join(dir, 'state.json');
const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : { stream: [], sink: [], pipeline: [] };
const args = process.argv.slice(2);
const fileFlag = args.findIndex((a) => a === '--schema-file' || a === '--sql-file');
const file = fileFlag >= 0 && fs.existsSync(args[fileFlag + 1]) ? fs.readFileSync(args[fileFlag + 1], 'utf8') : undefined;
fs.appendFileSync(path.join(dir, 'calls.ndjson'), JSON.stringify({ args, file }) + '\\n');
const kind = args[1] === 'streams' ? 'stream' : args[1] === 'sinks' ? 'sink' : 'pipeline';
const action = kind === 'pipeline' ? args[1] : args[2];
const name = kind === 'pipeline' ? args[2] : args[3];
if (action === 'list') {
  if (kind === 'pipeline') { process.stderr.write('Unknown argument: json\\n'); process.exit(1); }
  const items = state[kind].map((n, i) => ({ id: 'id' + i, name: n }));
  process.stdout.write('⛅️ wrangler (stand-in)\\n' + JSON.stringify(kind === 'stream' ? items : { result: items }) + '\\n');
  process.exit(0);
}
if (action === 'create') {
  if (state[kind].includes(name)) { process.stderr.write('✘ [ERROR] A ' + kind + ' named ' + name + ' already exists\\n'); process.exit(1); }
  state[kind].push(name);
  fs.writeFileSync(stateFile, JSON.stringify(state));
  process.stdout.write('Created ' + kind + ' ' + name + '\\n');
  process.exit(0);
}
process.stderr.write('unexpected call\\n');
process.exit(3);
`;

interface Call {
  args: string[];
  file?: string;
}

let bin: string;
const calls = (): Call[] =>
  existsSync(join(bin, 'calls.ndjson'))
    ? readFileSync(join(bin, 'calls.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
    : [];
const creates = () => calls().filter((c) => c.args.includes('create'));

beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), 'fake-wrangler-'));
  writeFileSync(join(bin, 'wrangler'), FAKE_WRANGLER);
  chmodSync(join(bin, 'wrangler'), 0o755);
});

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
  LAKEHOUSE_R2_BUCKET: 'lake-bucket',
  LAKEHOUSE_R2_CATALOG_TOKEN: 'catalog-secret',
  ...extra,
});

describe('lakehouse pipelines plan', () => {
  it('writes six schema files and six SQL files with Cloudflare-valid names and prints the wrangler commands', async () => {
    const out = mkdtempSync(join(tmpdir(), 'plan-'));
    const r = await runCli(['pipelines', 'plan', '--out', out], { env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const files = readdirSync(out).sort();
    const schemas = files.filter((f) => f.endsWith('.schema.json'));
    const sqls = files.filter((f) => f.endsWith('.sql'));
    expect(files).toHaveLength(12);
    expect(schemas.map((f) => basename(f, '.schema.json')).sort()).toEqual([...STREAM_NAMES].sort());
    expect(sqls).toHaveLength(6);
    for (const f of [
      ...schemas.map((x) => basename(x, '.schema.json')),
      ...sqls.map((x) => basename(x, '.sql')),
    ]) {
      expect(f).toMatch(CLOUDFLARE_NAME);
    }
    for (const stream of STREAM_NAMES) {
      expect(JSON.parse(readFileSync(join(out, `${stream}.schema.json`), 'utf8'))).toEqual(
        streamSchema(stream),
      );
      const p = pipelines[stream];
      const sql = readFileSync(join(out, `${p.name}.sql`), 'utf8');
      expect(sql).toMatch(new RegExp(`^INSERT INTO ${p.destination.table}_sink\\nSELECT`));
      expect(sql).toContain(`FROM ${stream} AS event`);
      expect(sql).not.toMatch(/\bFROM source\b/);
      expect(r.stdout).toContain(
        `wrangler pipelines streams create ${stream} --schema-file ${join(out, `${stream}.schema.json`)}\n`,
      );
      expect(r.stdout).toContain(
        `wrangler pipelines sinks create ${p.destination.table}_sink --type r2-data-catalog --bucket $LAKEHOUSE_R2_BUCKET ` +
          `--namespace lakehouse --table ${p.destination.table} --roll-interval 300 --compression zstd ` +
          '--catalog-token $LAKEHOUSE_R2_CATALOG_TOKEN\n',
      );
      expect(r.stdout).toContain(
        `wrangler pipelines create ${p.name} --sql-file ${join(out, `${p.name}.sql`)}\n`,
      );
    }
    expect(r.stdout).not.toContain('catalog-secret');
    // A transform that drops records says so: zero-amount orders never reach the table.
    expect(r.stdout).toContain('#   FILTER: records not matching `event.total_amount > 0` are dropped');
    expect(r.stdout.match(/FILTER:/g)).toHaveLength(1);
  });

  it('--json prints the same plan as data', async () => {
    const out = mkdtempSync(join(tmpdir(), 'plan-'));
    const r = await runCli(['pipelines', 'plan', '--out', out, '--json', '--roll-interval', '120'], {
      env: env(),
    });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as {
      pipelines: {
        pipeline: string;
        stream: string;
        sink: string;
        files: { schema: { path: string; content: string } };
        commands: Record<'stream' | 'sink' | 'pipeline', { args: string[]; text: string }>;
      }[];
    };
    expect(plan.pipelines.map((p) => p.pipeline)).toEqual(Object.values(pipelines).map((p) => p.name));
    const orders = plan.pipelines[0]!;
    expect(orders).toMatchObject({ stream: 'orders', sink: 'orders_sink', filter: 'event.total_amount > 0' });
    expect(plan.pipelines[1]).toMatchObject({ filter: null });
    expect(orders.commands.sink.args).toContain('120');
    expect(orders.commands.pipeline.args).toEqual([
      'pipelines',
      'create',
      'orders_events',
      '--sql-file',
      join(out, 'orders_events.sql'),
    ]);
    expect(readFileSync(orders.files.schema.path, 'utf8')).toBe(orders.files.schema.content);
  });

  it('refuses a roll interval under 60 seconds', async () => {
    const r = await runCli(['pipelines', 'plan', '--roll-interval', '30'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--roll-interval must be a whole number of seconds, at least 60');
  });
});

describe('lakehouse pipelines apply', () => {
  it('without --yes only lists and prints what it would create', async () => {
    const out = mkdtempSync(join(tmpdir(), 'apply-'));
    const r = await runCli(['pipelines', 'apply', '--out', out], { env: env() });
    expect(r.code).toBe(0);
    expect(readdirSync(out)).toHaveLength(12);
    expect(creates()).toEqual([]);
    expect(calls().map((c) => c.args.join(' '))).toEqual([
      'pipelines streams list --json',
      'pipelines sinks list --json',
      'pipelines list --json',
    ]);
    expect(r.stdout.match(/^would create/gm)).toHaveLength(18);
    expect(r.stdout).toContain('(dry run: add --yes to create)');
  });

  it('--yes creates streams, sinks then pipelines; a second run creates nothing new and reports exists', async () => {
    const first = await runCli(['pipelines', 'apply', '--yes', '--json'], { env: env() });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const steps1 = JSON.parse(first.stdout).steps as { kind: string; name: string; status: string }[];
    expect(steps1).toHaveLength(18);
    expect(steps1.every((s) => s.status === 'created')).toBe(true);

    const made = creates();
    expect(made).toHaveLength(18);
    const ordersSink = made.find((c) => c.args[3] === 'orders_sink')!;
    expect(ordersSink.args).toEqual(expect.arrayContaining(['--bucket', 'lake-bucket']));
    expect(ordersSink.args).toEqual(expect.arrayContaining(['--catalog-token', 'catalog-secret']));
    const ordersStream = made.find((c) => c.args[2] === 'create' && c.args[3] === 'orders')!;
    expect(JSON.parse(ordersStream.file ?? '')).toEqual(streamSchema('orders'));
    const ordersPipeline = made.find((c) => c.args[1] === 'create' && c.args[2] === 'orders_events')!;
    expect(ordersPipeline.file).toMatch(/^INSERT INTO orders_sink\n/);
    // Order: a pipeline is created after its stream and its sink.
    const at = (pred: (c: Call) => boolean) => made.findIndex(pred);
    expect(at((c) => c === ordersPipeline)).toBeGreaterThan(at((c) => c === ordersSink));
    expect(at((c) => c === ordersSink)).toBeGreaterThan(at((c) => c === ordersStream));

    const second = await runCli(['pipelines', 'apply', '--yes'], { env: env() });
    expect(second.code).toBe(0);
    expect(second.stdout.match(/^exists/gm)).toHaveLength(18);
    expect(second.stdout).not.toMatch(/^created/m);
    const state = JSON.parse(readFileSync(join(bin, 'state.json'), 'utf8'));
    expect([state.stream.length, state.sink.length, state.pipeline.length]).toEqual([6, 6, 6]);
    // Streams and sinks were listed as existing, so only pipelines (whose list failed) were tried.
    const retried = creates().slice(18);
    expect(retried.every((c) => c.args[1] === 'create')).toBe(true);
    expect(retried).toHaveLength(6);
  });

  it('--yes without the bucket variable fails naming it, before creating anything', async () => {
    const r = await runCli(['pipelines', 'apply', '--yes'], { env: env({ LAKEHOUSE_R2_BUCKET: '' }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('LAKEHOUSE_R2_BUCKET is not set');
    expect(creates()).toEqual([]);
  });

  it('reports a failed wrangler call and exits 1', async () => {
    writeFileSync(
      join(bin, 'wrangler'),
      '#!/bin/sh\necho "Authentication error [code: 10000]" >&2\nexit 1\n',
    );
    const r = await runCli(['pipelines', 'apply', '--yes'], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^failed\s+stream\s+orders: Authentication error/m);
    expect(r.stdout).toMatch(/^skipped\s+pipeline\s+orders_events/m);
  });
});

describe('help', () => {
  it.each([['pipelines'], ['pipelines', 'plan'], ['pipelines', 'apply']])(
    '%s %s --help exits 0',
    async (...a) => {
      const r = await runCli([...a, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Usage: lakehouse pipelines');
    },
  );
});
