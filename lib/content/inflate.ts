// Bounded decompression of one ZIP entry (raw deflate): stops as soon as the
// output passes the limit, so a zip bomb costs at most `limit` bytes of memory
// and one zlib chunk of extra work, never its declared (or real) size. Async, so
// a large entry does not stall the other SMTP sessions of the process.

import zlib from 'node:zlib'

export interface Inflated {
  /** At most `limit` bytes of output. */
  readonly data: Buffer
  /** False if there was more output than `limit` (then `data` is only its start). */
  readonly complete: boolean
}

/** Inflates raw deflate data up to `limit` bytes. Rejects on invalid data. */
export function inflateBounded(compressed: Buffer, limit: number): Promise<Inflated> {
  return new Promise((resolve, reject) => {
    const inflater = zlib.createInflateRaw()
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const finish = (result: Inflated) => {
      if (settled) return
      settled = true
      resolve(result)
    }
    inflater.on('data', (chunk: Buffer) => {
      if (settled) return
      chunks.push(chunk)
      size += chunk.length
      if (size > limit) {
        finish({ data: Buffer.concat(chunks).subarray(0, limit), complete: false })
        inflater.destroy() // stop decompressing: the rest is never produced
      }
    })
    inflater.on('end', () => finish({ data: Buffer.concat(chunks), complete: true }))
    inflater.on('error', (err) => {
      if (settled) return
      settled = true
      reject(err)
    })
    inflater.end(compressed)
  })
}

export interface Measured {
  /** The first `keep` bytes of the output (all of it when it is shorter). */
  readonly head: Buffer
  /** Bytes of output produced before stopping: the entry's real size when `ended`, else more than `stopAfter`. */
  readonly produced: number
  /** True if the deflate stream ended before `stopAfter` was passed. */
  readonly ended: boolean
}

/**
 * Inflates raw deflate data keeping only its first `keep` bytes and counting the
 * rest, and stops as soon as more than `stopAfter` bytes came out. This is how an
 * entry's declared size is checked against what it really holds: the cost is at
 * most `stopAfter` bytes of inflating (plus one zlib chunk) and `keep` bytes of
 * memory, whatever the data would expand to. Rejects on invalid data.
 */
export function inflateMeasured(compressed: Buffer, keep: number, stopAfter: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const inflater = zlib.createInflateRaw()
    const kept: Buffer[] = []
    let keptBytes = 0
    let produced = 0
    let settled = false
    const finish = (ended: boolean) => {
      if (settled) return
      settled = true
      resolve({ head: Buffer.concat(kept).subarray(0, keep), produced, ended })
    }
    inflater.on('data', (chunk: Buffer) => {
      if (settled) return
      produced += chunk.length
      if (keptBytes < keep) {
        kept.push(chunk.subarray(0, keep - keptBytes))
        keptBytes += Math.min(chunk.length, keep - keptBytes)
      }
      if (produced > stopAfter) {
        finish(false)
        inflater.destroy() // the rest is never produced
      }
    })
    inflater.on('end', () => finish(true))
    inflater.on('error', (err) => {
      if (settled) return
      settled = true
      reject(err)
    })
    inflater.end(compressed)
  })
}
