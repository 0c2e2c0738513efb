#!/usr/bin/env bash
# Manual check of the issue's 1,000,000-row backfill (not run by the tests): creates a source
# table of 1M orders in its own schema, backfills it, and prints the summary and the time.
# Memory stays flat (server-side cursor); interrupt with Ctrl-C and run again to resume.
# Usage: DATABASE_URL=... REDIS_URL=... bench/backfill-1m.sh [rows]
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-1000000}"
export LAKEHOUSE_DB_SCHEMA="${LAKEHOUSE_DB_SCHEMA:-lh_bench_backfill}"
PSQL=(psql "${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" -v ON_ERROR_STOP=1 -q)
node bin/lakehouse.js migrate
"${PSQL[@]}" -c "DROP TABLE IF EXISTS ${LAKEHOUSE_DB_SCHEMA}.bench_orders" -c "
  CREATE TABLE ${LAKEHOUSE_DB_SCHEMA}.bench_orders AS
  SELECT 'o-' || g AS order_id, '0195134f-8258-7e85' AS tenant_id, 'site-1' AS site_id,
         'c-' || (g % 997) AS customer_id, (10 + g % 90)::numeric(12,2) AS total_amount, 'EUR' AS currency,
         'paid' AS status, 'card' AS payment_method, 1 + g % 5 AS item_count,
         timestamptz '2025-01-01' + g * interval '30 seconds' AS created_at
    FROM generate_series(1, ${ROWS}) g"
/usr/bin/time -v node bin/lakehouse.js backfill orders --no-wake --json \
  --sql "SELECT * FROM ${LAKEHOUSE_DB_SCHEMA}.bench_orders ORDER BY order_id" 2>&1 \
  | grep -E '^\{|Elapsed|Maximum resident'
