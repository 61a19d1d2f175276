// Archive bombs for tests, built at run time: deflated zeros of any size (1 GiB
// takes a few hundred milliseconds and 1 MB of memory, not 1 GiB), ZIPs of them,
// and ZIPs of such ZIPs. The deflate data is zlib's own: one MiB of zeros
// compressed with a full flush (byte-aligned, no reference to earlier data), so
// copies of it joined and closed by an empty final block are one valid stream.

import zlib from 'node:zlib'

import { zip, type Deflated } from './zip-writer'

const MIB = 1024 * 1024

/** `mib` MiB of zeros, deflated (about 1 KiB per MiB). */
export function deflatedZeros(mib: number): Deflated {
  const zeros = Buffer.alloc(MIB)
  const segment = zlib.deflateRawSync(zeros, { finishFlush: zlib.constants.Z_FULL_FLUSH })
  const last = zlib.deflateRawSync(Buffer.alloc(0)) // an empty final block ends the stream
  let crc = 0
  for (let i = 0; i < mib; i++) crc = zlib.crc32(zeros, crc)
  return { body: Buffer.concat([...Array<Buffer>(mib).fill(segment), last]), size: mib * MIB, crc }
}

/** A ZIP holding one entry of `mib` MiB of zeros. */
export function zerosZip(name: string, mib: number): Buffer {
  return zip([{ name, data: '', deflated: deflatedZeros(mib) }])
}
