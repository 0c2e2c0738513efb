import { type Command, Option } from 'commander';
import { catalogConfig, ENGINES } from '../../pipelines/catalogConfig.js';
import { requireEnv } from '../../pipelines/cloudflare/credentials.js';
import { BUCKET_ENV } from '../../pipelines/plan.js';

/** `lakehouse catalog-config --engine duckdb|pyiceberg|spark [--remote]`. */
export function catalogConfigCommand(program: Command): void {
  program
    .command('catalog-config')
    .description('Print the settings that attach an engine to the local catalog or to the R2 Data Catalog')
    .addOption(new Option('--engine <engine>', 'the engine').choices([...ENGINES]).makeOptionMandatory())
    .option(
      '--remote',
      `the R2 Data Catalog of CLOUDFLARE_ACCOUNT_ID / ${BUCKET_ENV} instead of "lakehouse serve"`,
    )
    .option('--url <url>', 'local catalog URL', 'http://127.0.0.1:8787/catalog')
    .addHelpText(
      'after',
      '\nRemote: URI https://catalog.cloudflarestorage.com/<account_id>/<bucket>, warehouse <account_id>_<bucket>,\n' +
        'bearer token LAKEHOUSE_R2_CATALOG_TOKEN (a read-only catalog token is enough to query). Secrets are\n' +
        'never printed: the output names the variable.',
    )
    .action((opts: { engine: string; remote?: boolean; url: string }) => {
      const text = opts.remote
        ? catalogConfig(opts.engine, {
            remote: true,
            accountId: requireEnv(process.env, 'CLOUDFLARE_ACCOUNT_ID', 'for the R2 Data Catalog URI'),
            bucket: requireEnv(process.env, BUCKET_ENV, 'for the R2 Data Catalog URI'),
          })
        : catalogConfig(opts.engine, { remote: false, catalogUrl: opts.url });
      process.stdout.write(text);
    });
}
