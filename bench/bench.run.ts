// `npm run bench`: the comparison (and the scaling section with BENCH_SCALING=1),
// printed and written to BENCHMARKS.md. See bench/options.ts for the settings.

import { it } from 'vitest'

import { runBench } from './main'

it('benchmark', async () => {
  await runBench()
})
