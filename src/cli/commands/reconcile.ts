import type { Command } from 'commander';
import { STREAM_NAMES } from '../../domain/catalog.js';
import type { Catalog } from '../../domain/defineCatalog.js';
import { LakehouseError } from '../../errors.js';
import { pipelinesOf } from '../../pipelines/catalogPipelines.js';
import type { PipelineDefinition } from '../../pipelines/types.js';
import { httpSqlExecutor, reconcile } from '../../reports/reconcile.js';
import { type CliContext, EXIT, parseDuration } from '../context.js';
import { findLakeTables } from '../lakeTables.js';
import { projectConfig } from '../projectConfig.js';
import { formatTable } from '../table.js';

interface ReconcileCliOptions {
  url: string;
  stream?: string;
  settle: number;
  allowDuplicates?: boolean;
  json?: boolean;
  remote?: boolean;
}

const WORDS: Record<string, string> = {
  missing: 'MISSING',
  not_yet_visible: 'not yet visible',
  extra: 'EXTRA (not delivered)',
  mismatch: 'SUMS DIFFER',
  duplicated: 'duplicated',
};

export function reconcileCommand(program: Command, ctx: () => CliContext): void {
  program
    .command('reconcile')
    .description(
      'Compare what the outbox delivered (per table, tenant and UTC day: events, money sums) with what ' +
        'the lake holds (rows, distinct event_id, sums over distinct events); exit 0 when every delivered ' +
        'event is in the lake exactly once, 1 otherwise',
    )
    .option('--url <url>', 'the local data platform answering POST /sql', 'http://127.0.0.1:8787')
    .option(
      '--remote',
      'read the lake on Cloudflare through Basin SQL (CLOUDFLARE_ACCOUNT_ID, LAKEHOUSE_R2_BUCKET, token) instead of --url',
    )
    .option(
      '--stream <name>',
      `only this stream of the config's catalog (without a config: ${STREAM_NAMES.join(', ')})`,
    )
    .option(
      '--settle <duration>',
      'a group short of events whose tenant delivered within this window is "not yet visible", not missing',
      (v) => parseDuration(v, '--settle'),
      600,
    )
    .option('--allow-duplicates', 'report duplicated events (at-least-once resends) but do not fail on them')
    .option('--json', 'print {"ok","groups","matched","problems":[...],"uncheckedFilters","tables":[...]}')
    .addHelpText(
      'after',
      '\nWith --remote the lake is read through Basin SQL; rows appear there only when a sink rolls a file,\n' +
        'so give --settle at least the roll interval.',
    )
    .action(async (opts: ReconcileCliOptions) => {
      const { catalog } = await projectConfig();
      const defs = pipelinesToCheck(catalog, opts.stream);
      const c = ctx();
      const lake = opts.remote
        ? (await import('./remoteQuery.js')).basinExecutor('reconcile --remote')
        : httpSqlExecutor(opts.url);
      const r = await reconcile({
        db: c.pool,
        schema: c.config.schema,
        lake,
        tables: await findLakeTables(opts.remote ? { remote: true } : { url: opts.url }, lake, defs),
        pipelines: defs,
        catalog,
        settleSeconds: opts.settle,
        allowDuplicates: opts.allowDuplicates === true,
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        process.stdout.write(
          formatTable(
            ['table', 'delivered', 'filtered', 'lake_events', 'lake_rows'],
            r.tables.map((t) => [t.table, t.delivered, t.filtered, t.lakeEvents, t.lakeRows]),
          ),
        );
        process.stdout.write(
          `\n${r.matched} of ${r.groups} groups (table, tenant, day) match; ${r.problems.length} differ\n`,
        );
        if (r.problems.length > 0) {
          process.stdout.write(
            formatTable(
              [
                'table',
                'tenant_id',
                'day',
                'status',
                'delivered',
                'filtered',
                'lake_events',
                'lake_rows',
                'sums (outbox/lake)',
              ],
              r.problems.map((p) => [
                p.table,
                p.tenant_id,
                p.day,
                WORDS[p.status] ?? p.status,
                p.delivered,
                p.filtered,
                p.lakeEvents,
                p.lakeRows,
                Object.entries(p.sums)
                  .map(([f, s]) => `${f} ${s.outbox}/${s.lake}`)
                  .join('; '),
              ]),
            ),
          );
        }
        for (const t of r.uncheckedFilters) {
          process.stdout.write(
            `note: ${t}: its filter is not a simple comparison; expected counts include filtered events\n`,
          );
        }
      }
      process.exitCode = r.ok ? EXIT.ok : EXIT.failed;
    });
}

/** The pipelines of the catalog's streams, or of `--stream` only (a stream it lacks: CONFIG). */
function pipelinesToCheck(catalog: Catalog, stream: string | undefined): PipelineDefinition[] {
  if (stream !== undefined && !catalog.has(stream)) {
    throw new LakehouseError('CONFIG', `unknown stream "${stream}"; streams: ${catalog.names.join(', ')}`);
  }
  return pipelinesOf(catalog).filter((p) => stream === undefined || p.stream === stream);
}
