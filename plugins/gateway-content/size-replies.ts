// Gives Haraka's own size refusals the answer RFC 1870 / RFC 3463 prescribe,
// "552 5.3.4 Message size exceeds fixed maximum message size", and runs them
// through the policy (logged, recorded, counted as check "size").
//
// No hook can do this alone (Haraka answers both itself, ignoring hooks): each
// connection gets two small overrides at connect_init, through lib/haraka (where
// the why and the Haraka lines are): MAIL answers an over-size SIZE itself and
// hands every other MAIL to Haraka unchanged; the reply after an oversized DATA
// is the one the `max_data_exceeded` hook chose. The limit stays Haraka's [max] bytes.

import { CONTENT_REPLIES, sizeFinding } from '../../lib/content/findings'
import { declaredSize } from '../../lib/content/size'
import { overrideMailCommand, overrideMaxDataReply } from '../../lib/haraka'
import { decide } from '../../lib/policy/actions'

/** Documented Connection members the overrides use (docs/Connection.md); respond() also takes a DSN. */
type Conn = Haraka.Connection & {
  esmtp: boolean
  respond(code: number, msg: unknown, cb?: () => void): void
  reset_transaction(cb?: () => void): void
}

/** A DSN as haraka-dsn builds it (what the adapter hands to `next` for a verdict). */
function isDsn(msg: unknown): msg is { code: number; reply: string } {
  return typeof msg === 'object' && msg !== null && typeof (msg as { code?: unknown }).code === 'number' && 'reply' in msg
}

export function installSizeReplies(plugin: Haraka.Plugin, c: Haraka.Connection, limit: () => number): void {
  const conn = c as Conn

  overrideMailCommand(conn, (line, haraka) => {
    const max = limit()
    // Only ESMTP sessions may send SIZE; everything else (and every syntax error) is Haraka's to answer.
    const size = max > 0 && conn.hello.host && conn.esmtp ? declaredSize(line) : undefined
    if (size === undefined || size <= max) return haraka(line)
    decide(plugin, conn, sizeFinding('declared_size_exceeded', size, max), 'reject')
    const r = CONTENT_REPLIES.size
    conn.respond(r.code, `${r.enhanced} ${r.text}`)
  })

  overrideMaxDataReply(conn, (retval, msg, haraka) => {
    if (!isDsn(msg)) return haraka(retval, msg)
    conn.respond(msg.code, msg, () => conn.reset_transaction())
  })
}
