// gateway-message-syntax: what the client sent inside DATA never reaches the next
// hop in a form a stricter or laxer parser reads differently.
// - Framing: bare CR, bare LF and NUL (RFC 5321 2.3.8 and 4.1.1.4 allow neither
//   in DATA). Only CRLF "." CRLF ends DATA; every "SMTP smuggling" variant is
//   content. The lines are rewritten before Haraka reads them (lib/message-syntax/
//   data-lines.ts, through lib/haraka's process_line override); by policy the
//   message is then refused at the end of DATA, or delivered with CRLF only.
// - Header section: a line with no colon, or a field name outside printable
//   US-ASCII, ends the header section for strict parsers (Postfix cleanup among
//   them) while Haraka keeps reading headers past it; refused, or repaired by
//   ending the header section there, as strict parsers read it.
// - 8-bit header bytes: a field that is not UTF-8 (raw Latin-1) is relayed byte
//   for byte (lib/haraka/message-stream.ts); Haraka alone would write U+FFFD.
// Haraka 3.3.4 alone answers a bare LF with "451 Bare line-feed" and a disconnect
// (a temporary error: the sender retries forever), and passes bare CR and NUL.

import { connection as haraka } from 'haraka-constants'

import { field } from '../../lib/config/schema'
import { keepHeaderBytes, overrideCommandLine } from '../../lib/haraka'
import { DataLineFilter, type DataFindings } from '../../lib/message-syntax/data-lines'
import { decide, type Finding } from '../../lib/policy/actions'
import { record } from '../../lib/policy/record'
import { definePlugin } from '../../lib/plugin/define'
import { deny } from '../../lib/plugin/verdict'
import { reply, REPLIES as SMTP_REPLIES } from '../../lib/smtp/reply'

const CHECK = 'message-syntax'

const schema = {
  main: {
    /** reject: 550 5.6.0 at the end of DATA; normalize: every bare CR or LF becomes CRLF. */
    bare_line_endings: field.oneOf(['reject', 'normalize'] as const, { default: 'reject' }),
    /** reject: 550 5.6.0; strip: NUL bytes are removed. */
    nul: field.oneOf(['reject', 'strip'] as const, { default: 'reject' }),
    /** reject: 550 5.6.0; repair: the header section ends before the malformed line (it becomes body). */
    malformed_header: field.oneOf(['reject', 'repair'] as const, { default: 'reject' }),
  },
}

// RFC 3463 X.6.0 "other or undefined media error": DATA itself was accepted; what
// is wrong is the structure of the content (Postfix answers a bare LF with
// 5.5.2, but it refuses at the protocol level, mid-DATA, and disconnects).
const REPLIES = {
  bare_line_ending: reply(550, '5.6.0', 'Message contains bare CR or LF line endings'),
  nul: reply(550, '5.6.0', 'Message contains NUL characters'),
  malformed_header: reply(550, '5.6.0', 'Message header malformed'),
}

/** Connection.state (docs/Connection.md): the constants of haraka-constants. */
type Conn = Haraka.Connection & { state: number }

export = definePlugin({
  name: 'gateway-message-syntax',
  instances: ['inbound', 'outbound'],
  hooks: ['connect_init', 'data_post'],
  config: schema,
  order: {
    before: {
      'gateway-dmarc': 'a malformed message is refused before it is checked or scanned',
      'gateway-content': 'a malformed message is refused before it is checked or scanned',
      'gateway-antivirus': 'a malformed message is refused before it is checked or scanned',
      'gateway-spam': 'a malformed message is refused before it is checked or scanned',
      'gateway-org-stamp': 'the X-Gateway-Org stamp is only written on a well-formed message',
      'gateway-org-verify': 'a malformed message is refused before its X-Gateway-Org header is read',
    },
  },
  setup({ plugin, instance, config: { main } }) {
    const filters = new WeakMap<Haraka.Transaction, DataLineFilter>()
    /** Transactions whose DATA could not be checked (a bug): refused with 451 4.3.0. */
    const broken = new WeakSet<Haraka.Transaction>()
    // Decisions made here land in X-Gateway-Checks on inbound only: outbound mail leaves the organisation.
    const marks = instance === 'inbound'

    /** What was found, with the configured answer of each, in the order they are answered. */
    function findingsOf(f: DataFindings): { finding: Finding; reject: boolean }[] {
      const out: { finding: Finding; reject: boolean }[] = []
      if (f.malformedHeader !== undefined) {
        out.push({ finding: { check: CHECK, result: 'malformed_header', detail: f.malformedHeader, reply: REPLIES.malformed_header }, reject: main.malformed_header === 'reject' })
      }
      if (f.bareLf || f.bareCr) {
        const which = [f.bareCr ? 'CR' : '', f.bareLf ? 'LF' : ''].filter(Boolean).join(' and ')
        out.push({ finding: { check: CHECK, result: 'bare_line_ending', detail: `bare ${which}`, reply: REPLIES.bare_line_ending }, reject: main.bare_line_endings === 'reject' })
      }
      if (f.nul) out.push({ finding: { check: CHECK, result: 'nul', reply: REPLIES.nul }, reject: main.nul === 'reject' })
      return out
    }

    return {
      hooks: {
        connect_init(c) {
          const conn = c as Conn
          overrideCommandLine(conn, (line, harakaProcessLine) => {
            const txn = conn.transaction
            if (conn.state !== haraka.state.DATA || !txn) return harakaProcessLine(line)
            let filter = filters.get(txn)
            if (!filter) {
              // header fields whose bytes are not UTF-8 leave as they came (Haraka would write U+FFFD)
              const onNonUtf8Field = (original: Buffer) => keepHeaderBytes(txn, { original })
              filters.set(txn, (filter = new DataLineFilter({ nul: main.nul, header: main.malformed_header, onNonUtf8Field })))
            }
            let lines: Buffer[]
            try {
              lines = filter.feed(line)
            } catch (err) {
              // Runs inside Haraka's socket reader, where a throw would end the process:
              // the line goes to Haraka as it came, and the message is refused at its end.
              if (!broken.has(txn)) conn.logerror(plugin, `DATA line check failed: ${err instanceof Error ? err.message : String(err)}`)
              broken.add(txn)
              lines = [line]
            }
            for (const l of lines) harakaProcessLine(l)
          })
        },
        data_post(c, txn) {
          const filter = filters.get(txn)
          if (!filter) return undefined
          if (broken.has(txn)) return deny(SMTP_REPLIES.localError)
          for (const { finding, reject } of findingsOf(filter.findings)) {
            if (reject) return decide(plugin, c, finding, 'reject', { marks })
            // repaired: recorded (and, inbound, written into X-Gateway-Checks) as accepted
            record(plugin, c, { check: finding.check, result: `${finding.result}_repaired`, action: 'accept', detail: finding.detail }, { marks })
          }
          return undefined
        },
      },
    }
  },
})
