import type { Command } from 'commander';
import { resolveWarehouse } from '../../lakehouse/options.js';
import { DEFAULT_SINK_URL } from '../../pipelines/httpSink.js';
import type { CliContext } from '../context.js';
import {
  checkNode,
  checkPostgres,
  checkRedis,
  checkSink,
  checkWarehouse,
  checkWarehouseLock,
  type DoctorCheck,
  type DoctorTarget,
} from '../doctor/checks.js';
import { EXIT } from '../errors.js';

interface DoctorCliOptions {
  warehouse?: string;
  sink: boolean;
  json?: boolean;
}

function print(checks: DoctorCheck[]): void {
  const width = Math.max(...checks.map((c) => c.name.length));
  for (const c of checks) {
    process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}\n`);
    if (c.fix) process.stdout.write(`${' '.repeat(width + 8)}fix: ${c.fix}\n`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  process.stdout.write(failed === 0 ? '\nall checks passed\n' : `\n${failed} check(s) failed\n`);
}

export function doctorCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('doctor')
    .description(
      'Check the installation: Node.js, PostgreSQL (reachable, version, schema migrated), Redis ' +
        '(reachable, eviction policy), the warehouse (writable, who holds its lock) and the sink (reachable, token accepted)',
    )
    .option(
      '--warehouse <dir>',
      'warehouse directory (default: LAKEHOUSE_WAREHOUSE or ./.lakehouse/warehouse)',
    )
    .option('--no-sink', 'skip the sink check (a host that only emits)')
    .option('--json', 'print {"ok":bool,"checks":[{name,ok,detail,fix?}]}')
    .addHelpText('after', '\nExit code 0 when every check passes, 1 when one fails.')
    .action(async (opts: DoctorCliOptions) => {
      const c = ctx();
      const target: DoctorTarget = {
        ...c.config,
        warehouse: resolveWarehouse(opts.warehouse),
        sinkUrl: process.env.LAKEHOUSE_SINK_URL_ORDERS ?? process.env.LAKEHOUSE_SINK_URL ?? DEFAULT_SINK_URL,
        ...(process.env.LAKEHOUSE_SINK_TOKEN ? { sinkToken: process.env.LAKEHOUSE_SINK_TOKEN } : {}),
      };
      const [pgChecks, redisChecks, warehouse, lock, sink] = await Promise.all([
        checkPostgres(target),
        checkRedis(target),
        checkWarehouse(target),
        checkWarehouseLock(target),
        opts.sink ? checkSink(target) : undefined,
      ]);
      const checks = [checkNode(), ...pgChecks, ...redisChecks, warehouse, lock, ...(sink ? [sink] : [])];
      const ok = checks.every((x) => x.ok);
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok, checks })}\n`);
      else print(checks);
      process.exitCode = ok ? EXIT.ok : EXIT.failed;
    });
}
