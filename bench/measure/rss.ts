// Peak resident memory of a server's process trees while a measurement runs: the
// test helpers' sampler (test/helpers/process-memory.ts reads /proc), every 200 ms.

import { RssSampler, treesRss } from '../../test/helpers/process-memory'

export class PeakRss extends RssSampler {
  constructor(pids: readonly number[]) {
    super(pids, 200)
  }
}

/** Current summed RSS of the trees rooted at `pids`, in bytes. */
export const currentRss = treesRss
