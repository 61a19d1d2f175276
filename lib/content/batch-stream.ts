// Gathers a byte stream into chunks of at least `size` bytes. Haraka's
// message_stream hands a message over one line per chunk, and mailsplit's
// splitter schedules one event-loop turn per chunk it is written: line by line,
// a 100 KiB message costs ~1,500 turns (10-90 ms in a running Haraka instead of
// ~2 ms). mailsplit's own ChunkedPassthrough is not used: it re-copies its
// whole buffer for every chunk written, quadratic in the chunk size.

import { Transform, type TransformCallback } from 'node:stream'

export class BatchStream extends Transform {
  private chunks: Buffer[] = []
  private length = 0

  constructor(private readonly size = 64 * 1024) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.chunks.push(chunk)
    this.length += chunk.length
    if (this.length >= this.size) this.release()
    done()
  }

  override _flush(done: TransformCallback): void {
    if (this.length > 0) this.release()
    done()
  }

  private release(): void {
    this.push(this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length))
    this.chunks = []
    this.length = 0
  }
}
