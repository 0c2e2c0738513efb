import { defineConfig } from 'vitest/config';

/**
 * The interop suite (`npm run test:interop`): Spark, PyIceberg and DuckDB, installed by
 * scripts/interop-setup.sh, read the lake through its REST catalog. Kept out of `npm test`.
 */
export default defineConfig({
  test: {
    name: 'interop',
    include: ['test/**/*.interop.test.ts'],
    globalSetup: ['./test/support/globalSetup.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
