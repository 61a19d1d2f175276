// Gives Haraka's own size refusals the answer RFC 1870 / RFC 3463 prescribe,
// "552 5.3.4 Message size exceeds fixed maximum message size", and runs them
// through the policy (logged, recorded, counted as check "size").
//
// No hook can do this alone (checked against haraka 3.3.4 connection.js):
// - MAIL FROM with SIZE= over [max] bytes is refused inside cmd_mail with
//   "550 Message too big!" before any `mail` hook runs;
// - after an oversized DATA, Haraka runs the `max_data_exceeded` hook but then
//   always answers "550 Message too big!", ignoring the hook's reply.
// So each connection gets two small overrides (installed at connect_init): a
// cmd_mail that answers an over-size SIZE itself and hands every other MAIL to
// Haraka unchanged, and a max_data_exceeded_respond that sends the reply the
// `max_data_exceeded` hook chose. The limit stays Haraka's [max] bytes.

import { CONTENT_REPLIES, sizeFinding } from '../../lib/content/findings'
import { declaredSize } from '../../lib/content/size'
import { decide } from '../../lib/policy/actions'

/** The Connection internals the overrides replace or call (haraka 3.3.4). */
interface ConnectionInternals {
  esmtp: boolean
  cmd_mail(this: Haraka.Connection & ConnectionInternals, line: string): void
  max_data_exceeded_respond(this: Haraka.Connection & ConnectionInternals, retval: number, msg?: unknown): void
  respond(code: number, msg: unknown, cb?: () => void): void
  reset_transaction(cb?: () => void): void
}
type Conn = Haraka.Connection & ConnectionInternals

/** A DSN as haraka-dsn builds it (what the adapter hands to `next` for a verdict). */
function isDsn(msg: unknown): msg is { code: number; reply: string } {
  return typeof msg === 'object' && msg !== null && typeof (msg as { code?: unknown }).code === 'number' && 'reply' in msg
}

export function installSizeReplies(plugin: Haraka.Plugin, c: Haraka.Connection, limit: () => number): void {
  const conn = c as Conn
  const harakaMail = conn.cmd_mail
  const harakaMaxData = conn.max_data_exceeded_respond

  conn.cmd_mail = function (line) {
    const max = limit()
    // Only ESMTP sessions may send SIZE; everything else (and every syntax error) is Haraka's to answer.
    const size = max > 0 && this.hello.host && this.esmtp ? declaredSize(line) : undefined
    if (size === undefined || size <= max) return harakaMail.call(this, line)
    decide(plugin, this, sizeFinding('declared_size_exceeded', size, max), 'reject')
    const r = CONTENT_REPLIES.size
    this.respond(r.code, `${r.enhanced} ${r.text}`)
  }

  conn.max_data_exceeded_respond = function (retval, msg) {
    if (!isDsn(msg)) return harakaMaxData.call(this, retval, msg)
    this.respond(msg.code, msg, () => this.reset_transaction())
  }
}
