// Reads a message's MIME structure the way mail clients do, streaming, within
// explicit limits. The splitting is @zone-eu/mailsplit's (the splitter under
// mailparser, ZoneMTA and WildDuck: RFC 2045 parameters through libmime,
// anchored delimiter lines, delimiters of every open ancestor honoured); this
// file only adds what it lacks for inspection: a nesting limit, a limit on
// header lines, and a stop at the first limit reached that says which one, so
// a message is never called clean after a silently shortened read.
// Attached messages (message/rfc822) are leaves here: message-scan.ts reads
// them with a reader of their own, within the message's budget.

import { finished, type Readable, type Transform } from 'node:stream'

import { Splitter, type MimeNode, type SplitterChunk } from '@zone-eu/mailsplit'

import { BatchStream } from './batch-stream'
import { partNames } from './part-names'

export interface MimeLimits {
  /** Bytes of one header block (the message's or a part's); mailsplit counts every line as at least 64. */
  readonly maxHeaderBytes: number
  /** Lines (folded continuations included) of one header block. */
  readonly maxHeaderLines: number
  /** Parts in one read, the message itself included. */
  readonly maxParts: number
  /** Nesting of parts below the message (the message is level 0, its parts 1, ...). */
  readonly maxDepth: number
}

/** One part as a mail client reads its header. */
export interface MimePart {
  /** 0 for the message itself. */
  readonly depth: number
  /** Lower-case type/subtype; when no Content-Type is given, what clients assume (RFC 2046: text/plain, message/rfc822 in a digest). */
  readonly type: string
  readonly multipart: boolean
  /** Lower-case Content-Disposition value ('' when there is none). */
  readonly disposition: string
  /** Charset parameter ('' when none). */
  readonly charset: string
  /** Every file name the part carries, decoded (RFC 2231, RFC 2047), in every header that can carry one. */
  readonly names: readonly string[]
  /** How many Content-Type headers it has: more than one is read differently by different clients. */
  readonly contentTypeHeaders: number
}

/** Receives the decoded content of one leaf part. */
export interface PartSink {
  /** The next decoded bytes; returns false when it needs no more (the rest is then not decoded). */
  write(chunk: Buffer): boolean
  /** After the part's last byte. Not called when the read stops at a limit inside the part. */
  end(): Promise<void>
}

/** Why a read ended before the end of the message. */
export interface MimeStop {
  readonly limit: 'parts' | 'depth' | 'header' | 'other'
  /** For logs. */
  readonly detail: string
}

/** What a read found: `parts` seen (whole headers read), and why it stopped early, if it did. */
export interface MimeRead {
  readonly parts: number
  readonly stopped: MimeStop | undefined
}

/**
 * Reads `input` (a whole message) to its end, or to the first limit, calling
 * `onPart` for every part in message order; the content of a leaf part goes,
 * decoded, to the sink `onPart` returns for it. The input is destroyed when
 * the read stops early. Errors other than limits (of the input, of a sink) reject.
 */
export async function readMime(input: Readable, limits: MimeLimits, onPart: (part: MimePart) => PartSink | undefined): Promise<MimeRead> {
  // ignoreEmbedded: attached messages are parsed by the caller with their own budget
  const splitter = new Splitter({ ignoreEmbedded: true, maxHeadSize: limits.maxHeaderBytes, maxChildNodes: limits.maxParts })
  // mailsplit types its splitter's events more narrowly than a Transform's; it is one
  // a stored message already comes batched (stored-message.ts): a second batch would only copy
  const feeding = feed(input instanceof BatchStream ? [input] : [input, new BatchStream()], splitter as unknown as Transform)
  let open: OpenPart | undefined
  let parts = 0
  try {
    for await (const chunk of splitter as AsyncIterable<SplitterChunk>) {
      if (chunk.type === 'node') {
        if (open) await open.close()
        open = undefined
        parts++
        const part = toPart(chunk)
        if (part.depth > limits.maxDepth) return stop(parts, 'depth', `MIME parts nested deeper than ${limits.maxDepth}`)
        const lines = headerLines(chunk)
        if (lines > limits.maxHeaderLines) return stop(parts, 'header', `a MIME header of ${lines} lines (more than ${limits.maxHeaderLines})`)
        const sink = onPart(part)
        if (sink && !part.multipart) open = new OpenPart(chunk, sink)
      } else if (chunk.type === 'body') {
        open?.feed(chunk.value)
      }
    }
    if (open) await open.close()
    open = undefined
    return { parts, stopped: undefined }
  } catch (err) {
    const limit = limitOf(err, limits)
    if (limit) return stop(parts, limit.limit, limit.detail)
    throw err
  } finally {
    open?.abandon()
    // leaving the loop early destroyed the splitter; feed() then destroys the input
    splitter.destroy()
    await feeding
  }
}

/**
 * Pipes input (-> batch) -> splitter; an error or premature close of any of them
 * destroys the others, so the iteration over the splitter sees the error (or
 * ends) and the input is released. Settles when all of them are done. What
 * stream.pipeline does, without the AbortController.abort() it ends every run
 * with, whose DOMException captures a stack trace each time (0.5 % of the inbound
 * instance's CPU, issue 12).
 */
function feed(source: readonly Readable[], splitter: Transform): Promise<void> {
  const streams = [...source, splitter]
  let failed = false
  const teardown = (err: Error) => {
    failed = true
    for (const s of streams) if (!s.destroyed) s.destroy(err)
  }
  const done = streams.map(
    (s) =>
      new Promise<void>((resolve) =>
        // finished() also listens for 'error' for as long as it waits (an unheard 'error' would end the process)
        finished(s, (err) => {
          if (err && !failed) teardown(err)
          resolve()
        }),
      ),
  )
  let end: Readable = streams[0]!
  for (const s of streams.slice(1)) end = end.pipe(s as Transform)
  return Promise.all(done).then(() => undefined)
}

function stop(parts: number, limit: MimeStop['limit'], detail: string): MimeRead {
  return { parts, stopped: { limit, detail } }
}

/** mailsplit reports its own limits as errors with code EMAXLEN; which one it was is only in the message. */
function limitOf(err: unknown, limits: MimeLimits): MimeStop | undefined {
  if (!(err instanceof Error) || (err as { code?: unknown }).code !== 'EMAXLEN') return undefined
  if (/child nodes/i.test(err.message)) return { limit: 'parts', detail: `more than ${limits.maxParts} MIME parts` }
  if (/header/i.test(err.message)) return { limit: 'header', detail: `a MIME header over ${limits.maxHeaderBytes} bytes` }
  // a kind of limit a later mailsplit may add: still a limit, named as it names it
  return { limit: 'other', detail: err.message }
}

function toPart(node: MimeNode): MimePart {
  const headers = node.headers || undefined
  const contentTypeHeaders = headers ? headers.get('content-type').length : 0
  const parent = node.parentNode || undefined
  // RFC 2046 5.1.5: in a digest, a part without Content-Type is an attached message
  const digestDefault = contentTypeHeaders === 0 && parent?.multipart === 'digest'
  return {
    depth: depthOf(node),
    type: digestDefault ? 'message/rfc822' : node.contentType || 'text/plain',
    multipart: Boolean(node.multipart),
    disposition: node.disposition || '',
    charset: node.charset || '',
    names: headers ? partNames(headers, node.filename || undefined) : [],
    contentTypeHeaders,
  }
}

function depthOf(node: MimeNode): number {
  let depth = 0
  for (let p = node.parentNode; p; p = p.parentNode) depth++
  return depth
}

/** Physical lines of a node's header block (mailsplit keeps a folded field as one entry with its line breaks). */
function headerLines(node: MimeNode): number {
  if (!node.headers) return 0
  let n = 0
  for (const { line } of node.headers.getList()) n += line.split('\n').length
  return n
}

/** A leaf part being read: its raw body through the transfer decoder into its sink. */
class OpenPart {
  private readonly decoder: Transform
  private readonly closed: Promise<void>
  private failure: unknown
  private wanted = true

  constructor(
    node: MimeNode,
    private readonly sink: PartSink,
  ) {
    this.decoder = node.getDecoder()
    this.decoder.on('data', (decoded: Buffer) => {
      if (this.wanted && !this.sink.write(decoded)) this.abandon()
    })
    // kept, not thrown: an 'error' without a listener would end the Haraka process
    this.decoder.on('error', (err: unknown) => {
      this.failure ??= err
    })
    this.closed = new Promise((resolve) => this.decoder.once('close', resolve))
  }

  feed(raw: Buffer): void {
    if (this.wanted) this.decoder.write(raw)
  }

  async close(): Promise<void> {
    if (this.wanted) {
      this.decoder.end()
      await this.closed // also when the sink, fed the last bytes, abandons the decoder
    }
    this.wanted = false
    if (this.failure) throw this.failure
    await this.sink.end()
  }

  /** Stops decoding: the sink has what it needs, or the read is over. */
  abandon(): void {
    if (!this.wanted) return
    this.wanted = false
    this.decoder.destroy()
  }
}
