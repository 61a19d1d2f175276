// The benchmark harness runs as one long vitest test (the test helpers it reuses
// import vitest): `npm run bench`, settings in BENCH_* environment variables
// (bench/options.ts).
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['bench/**/*.run.ts'],
    pool: 'forks',
    testTimeout: 0,
    hookTimeout: 0,
    maxWorkers: 1,
    // show the progress lines as they come
    silent: false,
  },
})
