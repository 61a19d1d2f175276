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
