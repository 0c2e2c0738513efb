import { LakehouseError } from '../errors.js';
import { DEFAULT_CATALOG_BASE_URL } from './cloudflare/credentials.js';

/** Engines `lakehouse catalog-config` prints settings for. */
export const ENGINES = ['duckdb', 'pyiceberg', 'spark'] as const;
export type Engine = (typeof ENGINES)[number];

/** Where the catalog is. */
export type CatalogTarget =
  | { remote: false; catalogUrl: string }
  | { remote: true; accountId: string; bucket: string; catalogBaseUrl?: string };

/** The R2 Data Catalog URI and warehouse of a bucket. */
export function r2Catalog(accountId: string, bucket: string, base = DEFAULT_CATALOG_BASE_URL) {
  return { uri: `${base.replace(/\/+$/, '')}/${accountId}/${bucket}`, warehouse: `${accountId}_${bucket}` };
}

const TOKEN_VAR = 'LAKEHOUSE_R2_CATALOG_TOKEN';
const ICEBERG_SPARK = '1.6.1';

function remote(engine: Engine, uri: string, warehouse: string): string {
  switch (engine) {
    case 'duckdb':
      return [
        `-- DuckDB >= 1.4 (iceberg extension). Replace <${TOKEN_VAR}> with the token (never printed here).`,
        'INSTALL iceberg; LOAD iceberg; INSTALL httpfs; LOAD httpfs;',
        `CREATE SECRET r2_catalog (TYPE ICEBERG, TOKEN '<${TOKEN_VAR}>');`,
        `ATTACH '${warehouse}' AS lake (TYPE ICEBERG, ENDPOINT '${uri}');`,
        'SELECT count(*) FROM lake.lakehouse.orders;',
      ].join('\n');
    case 'pyiceberg':
      return [
        'import os',
        'from pyiceberg.catalog.rest import RestCatalog',
        '',
        'catalog = RestCatalog(',
        '    name="r2",',
        `    warehouse="${warehouse}",`,
        `    uri="${uri}",`,
        `    token=os.environ["${TOKEN_VAR}"],`,
        ')',
        'table = catalog.load_table(("lakehouse", "orders"))',
      ].join('\n');
    case 'spark':
      return [
        'spark-shell \\',
        `  --packages org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:${ICEBERG_SPARK},org.apache.iceberg:iceberg-aws-bundle:${ICEBERG_SPARK} \\`,
        '  --conf spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions \\',
        '  --conf spark.sql.catalog.lake=org.apache.iceberg.spark.SparkCatalog \\',
        '  --conf spark.sql.catalog.lake.type=rest \\',
        `  --conf spark.sql.catalog.lake.uri=${uri} \\`,
        `  --conf spark.sql.catalog.lake.warehouse=${warehouse} \\`,
        `  --conf spark.sql.catalog.lake.token=$${TOKEN_VAR} \\`,
        '  --conf spark.sql.catalog.lake.header.X-Iceberg-Access-Delegation=vended-credentials \\',
        '  --conf spark.sql.defaultCatalog=lake',
      ].join('\n');
  }
}

function local(engine: Engine, catalogUrl: string): string {
  switch (engine) {
    case 'duckdb':
      return [
        '-- DuckDB >= 1.4 (iceberg extension), against "lakehouse serve" (read-only catalog, no auth).',
        'INSTALL iceberg; LOAD iceberg;',
        `ATTACH '' AS lake (TYPE ICEBERG, ENDPOINT '${catalogUrl}', AUTHORIZATION_TYPE 'none');`,
        'SELECT count(*) FROM lake.lakehouse.orders;',
      ].join('\n');
    case 'pyiceberg':
      return [
        'from pyiceberg.catalog.rest import RestCatalog',
        '',
        `catalog = RestCatalog("local", uri="${catalogUrl}")`,
        'table = catalog.load_table(("lakehouse", "orders"))',
      ].join('\n');
    case 'spark':
      return [
        'spark-shell \\',
        `  --packages org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:${ICEBERG_SPARK} \\`,
        '  --conf spark.sql.catalog.lake=org.apache.iceberg.spark.SparkCatalog \\',
        '  --conf spark.sql.catalog.lake.type=rest \\',
        `  --conf spark.sql.catalog.lake.uri=${catalogUrl} \\`,
        '  --conf spark.sql.defaultCatalog=lake',
      ].join('\n');
  }
}

/**
 * The settings that attach `engine` to the local catalog (`lakehouse serve`'s `/catalog`)
 * or to the R2 Data Catalog of a bucket. Secrets stay environment references.
 */
export function catalogConfig(engine: string, target: CatalogTarget): string {
  if (!(ENGINES as readonly string[]).includes(engine)) {
    throw new LakehouseError('CONFIG', `unknown engine "${engine}"; use one of: ${ENGINES.join(', ')}`);
  }
  const e = engine as Engine;
  if (!target.remote) return `${local(e, target.catalogUrl)}\n`;
  const { uri, warehouse } = r2Catalog(target.accountId, target.bucket, target.catalogBaseUrl);
  return `${remote(e, uri, warehouse)}\n`;
}
