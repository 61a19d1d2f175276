// Copies an instance's output to the launcher's standard output with "[name] "
// at the start of every line: one write per chunk the pipe delivers, the prefix
// put in with one replaceAll, instead of readline splitting every line and
// console.log formatting and writing each (about 10 % of a core at ~10 lines per
// message). Also counts Haraka's "[server] Listening on" lines for the launcher,
// across chunk boundaries.

const LISTENING = '[server] Listening on '

export class PrefixedCopy {
  private atLineStart = true
  /** The end of the previous chunk, to find a marker cut in two by the pipe. */
  private tail = ''
  /** "[server] Listening on" lines seen so far. */
  listening = 0

  constructor(private readonly prefix: string) {}

  /** The chunk with the prefix at each line start (a line split across chunks gets it once). */
  apply(chunk: string): string {
    if (chunk === '') return ''
    this.count(chunk)
    const endsLine = chunk.endsWith('\n')
    const body = endsLine ? chunk.slice(0, -1) : chunk
    const out = `${this.atLineStart ? this.prefix : ''}${body.replaceAll('\n', `\n${this.prefix}`)}${endsLine ? '\n' : ''}`
    this.atLineStart = endsLine
    return out
  }

  private count(chunk: string): void {
    const text = this.tail + chunk
    for (let at = text.indexOf(LISTENING); at >= 0; at = text.indexOf(LISTENING, at + LISTENING.length)) this.listening++
    // shorter than the marker: a whole marker is never counted twice
    this.tail = text.slice(-(LISTENING.length - 1))
  }
}

/** Pipes `stream` (an instance's stdout or stderr) to `write` prefixed; `onListening` after each "Listening on" line. */
export function copyPrefixed(stream: NodeJS.ReadableStream, prefix: string, write: (text: string) => void, onListening: () => void): void {
  const copy = new PrefixedCopy(prefix)
  stream.setEncoding('utf8') // a multi-byte character cut between chunks is joined again
  stream.on('data', (chunk: string) => {
    const before = copy.listening
    write(copy.apply(chunk))
    for (let i = before; i < copy.listening; i++) onListening()
  })
}
