// gateway-smtp-strict: the envelope the next hop gets is the one the client sent,
// in a form every server reads the same way.
// - MAIL/RCPT parameters: only those of extensions this instance advertised, with
//   valid values, each once (RFC 5321 4.1.1.11: 555 5.5.4). Haraka accepts any
//   name and value ("SIZE=-1", "FOO=bar", "SIZE=1 SIZE=2") and keeps the last.
// - Addresses: non-ASCII only with SMTPUTF8 (RFC 6531 3.4: 553 5.6.7), and then
//   only valid UTF-8 (553 5.1.7 / 5.1.3). Haraka decodes the line as UTF-8 (an
//   invalid byte becomes U+FFFD) and its delivery adds SMTPUTF8 for a non-ASCII
//   address: the next hop would get an address and a parameter the client never sent.

import { paramProblem, paramsOf, advertisedExtensions } from '../../lib/smtp/esmtp-params'
import { decide, type Finding } from '../../lib/policy/actions'
import { definePlugin } from '../../lib/plugin/define'
import type { EnvelopeParams } from '../../lib/plugin/hooks'
import { reply } from '../../lib/smtp/reply'

const CHECK = 'smtp-syntax'

const REPLIES = {
  // RFC 5321 4.2.2 / RFC 3463 X.5.4 "invalid command arguments"
  params: reply(555, '5.5.4', 'Unrecognized or invalid command parameters'),
  // RFC 6531 3.4 / RFC 3463 X.6.7 "non-ASCII addresses not permitted for that sender/recipient"
  needsSmtputf8: reply(553, '5.6.7', 'Non-ASCII address requires SMTPUTF8'),
  // RFC 3463 X.1.7 / X.1.3 "bad sender's / destination mailbox address syntax"
  badSender: reply(553, '5.1.7', 'Sender address is not valid UTF-8'),
  badRecipient: reply(553, '5.1.3', 'Recipient address is not valid UTF-8'),
}

/** connection.current_line (set by connection.js process_line before cmd_mail / cmd_rcpt run): the command as sent. */
type Conn = Haraka.Connection & { current_line?: string }

const NON_ASCII = /[^\x00-\x7f]/
/** What Haraka's UTF-8 decoding made of an invalid byte (a literal U+FFFD is refused as well: no address needs it). */
const REPLACEMENT = '\ufffd'

export = definePlugin({
  name: 'gateway-smtp-strict',
  instances: ['inbound', 'outbound'],
  hooks: ['mail', 'rcpt'],
  order: {
    before: {
      'gateway-sender-filter': 'the envelope is well-formed before any policy reads it',
      'gateway-submission-auth': 'the envelope is well-formed before any policy reads it',
      'gateway-recipients': 'the envelope is well-formed before any policy reads it',
      'gateway-accepted-domains': 'it accepts the recipient and ends the rcpt chain',
    },
  },
  setup({ plugin }) {
    const smtputf8 = new WeakMap<Haraka.Transaction, boolean>()

    function check(c: Conn, verb: 'MAIL' | 'RCPT', address: string, utf8: boolean) {
      const parsed = paramsOf(c.current_line ?? '')
      const problem = parsed && parsed.verb === verb ? paramProblem(verb, parsed.params, advertisedExtensions(c.capabilities)) : undefined
      const found = (result: string, r: Finding['reply'], detail?: string) => decide(plugin, c, { check: CHECK, result, reply: r, ...(detail ? { detail } : {}) }, 'reject')
      if (problem) return found('invalid_parameters', REPLIES.params, `${verb}: ${problem}`)
      if (!NON_ASCII.test(address)) return undefined
      if (!utf8) return found('non_ascii_without_smtputf8', REPLIES.needsSmtputf8, verb)
      if (address.includes(REPLACEMENT)) return found('invalid_utf8_address', verb === 'MAIL' ? REPLIES.badSender : REPLIES.badRecipient, verb)
      return undefined
    }

    return {
      hooks: {
        mail(c, txn, [from, params]: EnvelopeParams) {
          const utf8 = Object.keys(params).some((k) => k.toUpperCase() === 'SMTPUTF8')
          smtputf8.set(txn, utf8)
          return check(c, 'MAIL', from.address ?? '', utf8)
        },
        rcpt(c, txn, [to]: EnvelopeParams) {
          return check(c, 'RCPT', to.address ?? '', smtputf8.get(txn) ?? false)
        },
      },
    }
  },
})
