// Haraka's log lines reach standard output together instead of one system call
// each. Haraka (3.3.4 logger.js log_respond) writes every line with its own
// process.stdout.write; to a pipe or a file (systemd's journal, `gateway start`,
// a log shipper) that write is synchronous, and the shipped level still writes
// two or more lines per message: a system call per line was ~1.5 % of the inbound
// instance's main thread (issue 12). Here lines wait at most FLUSH_MS (or until
// FLUSH_BYTES are waiting) and leave in one write; at process exit (Haraka's own
// exit after a fatal error included: it ends with process.exit) what waits is
// written synchronously. A kill -9 loses at most the last FLUSH_MS of lines (the
// tracking records in Redis and the event log keep the message history).
//
// Why no hook or setting can do it: a `log` hook plugin that answers OK would also
// end the hook for every log plugin listed after it (syslog, a shipper); replacing
// log_respond, which Haraka calls only when every `log` hook continued, changes
// nothing but the write. A terminal keeps Haraka's writer (colours, at once).
// What it relies on: log_respond(retval, msg, data) with data.data the formatted
// line and data.level its level, and logger.timestamps (log.ini [main] timestamps).

import { loaderOf, requireInternal, type HarakaInternal, type HarakaSource } from './internal'

export const LOGGER_LOG_RESPOND: HarakaInternal = { module: './logger', member: ['log_respond'], kind: 'function', usedBy: 'log lines written together (issue 12)' }

/** How long a line may wait for the lines after it. */
const FLUSH_MS = 50
/** Written at once when this many characters wait. */
const FLUSH_BYTES = 32 * 1024

/** haraka-constants cont: the `log` hooks all continued, so the line is Haraka's to write. */
const CONT = 900

interface HarakaLogger {
  log_respond(retval: number, msg: unknown, data: { data: string; level: string }): boolean
  timestamps?: boolean
}

/** Where the lines go (process.stdout; a stand-in in tests). */
export interface LogOutput {
  readonly isTTY?: boolean
  write(text: string): unknown
}

const BATCHED = Symbol.for('edge-gateway.haraka.batched-log-writes')

/** Replaces Haraka's log_respond once per process; returns the writer (tests flush it). */
export function batchLogWrites(source: HarakaSource, out: LogOutput = process.stdout): LineBatch | undefined {
  requireInternal(source, LOGGER_LOG_RESPOND)
  const logger = loaderOf(source)(LOGGER_LOG_RESPOND.module) as HarakaLogger & { [BATCHED]?: LineBatch }
  if (out.isTTY) return undefined
  if (logger[BATCHED]) return logger[BATCHED]
  const batch = new LineBatch(out)
  logger.log_respond = (retval, _msg, data) => {
    if (retval !== CONT) return false
    batch.add(logger.timestamps ? `${new Date().toISOString()} ${data.data}\n` : `${data.data}\n`)
    return true
  }
  logger[BATCHED] = batch
  process.once('exit', () => batch.flush())
  return batch
}

export class LineBatch {
  private pending: string[] = []
  private size = 0
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly out: LogOutput) {}

  add(line: string): void {
    this.pending.push(line)
    this.size += line.length
    if (this.size >= FLUSH_BYTES) this.flush()
    // unref: a line waiting never keeps the process alive (exit writes it)
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref()
  }

  /** Writes what waits, in one write. */
  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.pending.length === 0) return
    const text = this.pending.join('')
    this.pending = []
    this.size = 0
    this.out.write(text)
  }
}
