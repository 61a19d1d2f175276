// gateway-antivirus (INBOUND ONLY): every message from the Internet is streamed
// to ClamAV's clamd at the end of DATA, before the sender gets its 250. clamd
// decodes the MIME parts and unpacks archives itself. A virus is a finding
// (check "virus", result "infected") handled by the configured action, default
// reject. When clamd cannot give a verdict (down, too slow, an ERROR answer,
// a message over its StreamMaxLength) `on_error` decides: tempfail (the sender
// retries later) or accept marked "X-Gateway-Virus: unscanned". An outage is
// logged as one ERROR, not one per message; a clamd `gateway start` announced as
// OFF (GATEWAY_VIRUS_ENGINE=off) is said once at start. Outgoing mail
// is not scanned (the outbound instance stays fast): declared inbound only.

import { scanStream, type ClamdOptions } from '../../lib/scanners/clamd-client'
import { ClamdError, formatClamdAddress, type ScanResult } from '../../lib/scanners/clamd-protocol'
import { ConfigError } from '../../lib/config/errors'
import { displayPath } from '../../lib/config/paths'
import { readStoredMessage } from '../../lib/content/stored-message'
import { readIni } from '../../lib/config/ini'
import { field, validate } from '../../lib/config/schema'
import { Availability } from '../../lib/scanners/availability'
import { engineOff, VIRUS_ENGINE_ENV, virusEngineFields } from '../../lib/scanners/engine-settings'
import { definePlugin } from '../../lib/plugin/define'
import { deny } from '../../lib/plugin/verdict'
import { actionField, decide, type Finding } from '../../lib/policy/actions'
import { reply, REPLIES } from '../../lib/smtp/reply'

const NAME = 'gateway-antivirus'
const CHECK = 'virus'
const HEADER = 'X-Gateway-Virus'

const schema = {
  main: {
    /** clamd's address: host:port (TCPAddr/TCPSocket) or the absolute path of its LocalSocket; GATEWAY_CLAMD_SERVER overrides it (`gateway start` sets it for a private clamd). */
    server: virusEngineFields.server,
    /** What happens to a message with a virus. */
    action: actionField('reject'),
    /** What happens when clamd gives no verdict: tempfail (the sender retries) or accept unscanned; GATEWAY_VIRUS_ON_ERROR overrides it. */
    on_error: virusEngineFields.on_error,
    /** Longest wait for a connection to clamd. */
    connect_timeout_ms: field.int({ default: 2000, min: 100, max: 10_000 }),
    /** Longest a whole scan may take; below the 20 s after which the hook itself gives up. */
    timeout_ms: field.int({ default: 15_000, min: 1000, max: 18_000 }),
  },
}

/** The settings, with the check across keys (a connect timeout within the whole scan's). */
function loadSettings(file: string) {
  const { main } = validate(readIni(file), file, schema)
  if (main.connect_timeout_ms > main.timeout_ms) {
    throw new ConfigError(displayPath(file), '[main] connect_timeout_ms', `${main.connect_timeout_ms} is longer than timeout_ms (${main.timeout_ms}), which bounds the whole scan`)
  }
  return main
}

// 554 (RFC 5321 "transaction failed") rather than 550 (mailbox unavailable): at
// the end of DATA the message itself is refused, for every recipient at once.
// 5.7.1 (RFC 3463 "delivery not authorized, message refused") says it is policy.
const INFECTED = reply(554, '5.7.1', 'Message contains a virus')

export = definePlugin({
  name: NAME,
  instances: ['inbound'],
  hooks: ['data_post'],
  config: loadSettings,
  setup({ plugin, config: main }) {
    const clamd: ClamdOptions = { address: main.server, connectTimeoutMs: main.connect_timeout_ms, timeoutMs: main.timeout_ms }
    const offAtStart = engineOff(VIRUS_ENGINE_ENV)
    const clamdState = new Availability(offAtStart)
    const at = formatClamdAddress(main.server)
    if (offAtStart) {
      const meanwhile = main.on_error === 'accept' ? 'mail is delivered marked "X-Gateway-Virus: unscanned"' : 'mail is refused with 451 (on_error=tempfail)'
      plugin.lognotice(`virus scanning OFF (gateway start found no clamd): ${meanwhile} until clamd answers at ${at}`)
    } else {
      plugin.loginfo(`scanning with clamd at ${at}: action=${main.action}, on_error=${main.on_error}`)
    }

    // As received, not dot-stuffed: the bytes a mail client will open. readStoredMessage
    // releases the message stream for the next reader (the spool) even after a failed scan.
    const scan = (txn: Haraka.Transaction): Promise<ScanResult> => readStoredMessage(txn.message_stream, (message) => scanStream(clamd, message))

    /** clamd gave no verdict: the failure policy decides, and the decision is recorded like any other. */
    const unscanned = (c: Haraka.Connection, txn: Haraka.Transaction, err: ClamdError) => {
      const finding: Finding = { check: CHECK, result: 'unscanned', detail: `${err.reason}: ${err.message}`, reply: REPLIES.localError }
      const line = `message not scanned (${err.reason}): ${err.message}`
      if (clamdState.failed() === 'error') c.logerror(plugin, `${line}; until clamd answers again, further unscanned messages are logged at INFO`)
      else c.loginfo(plugin, line)
      if (main.on_error === 'tempfail') {
        decide(plugin, c, finding, 'tempfail')
        // Not decide()'s 451 4.7.1 (a policy refusal): an unreachable scanner is a local
        // problem, answered like every other one (4.3.0, nothing about the scanner).
        return deny(REPLIES.localError)
      }
      txn.add_leading_header(HEADER, 'unscanned')
      return decide(plugin, c, finding, 'accept')
    }

    return {
      hooks: {
        async data_post(c, txn) {
          // Only the gateway says whether a message was scanned (gateway-header-firewall
          // strips the X-Gateway-* family too; this holds even without it).
          txn.remove_header(HEADER)
          let result: ScanResult
          try {
            result = await scan(txn)
          } catch (err) {
            if (err instanceof ClamdError) return unscanned(c, txn, err)
            throw err // a bug, not an outage: the adapter answers 451 4.3.0 and logs it
          }
          if (clamdState.answered()) c.lognotice(plugin, `clamd at ${at} answers: messages are scanned again`)
          if (result.infected) {
            return decide(plugin, c, { check: CHECK, result: 'infected', detail: result.signature, reply: INFECTED }, main.action)
          }
          // Recorded so X-Gateway-Checks shows the message was scanned ("virus=clean (accept)");
          // with action accept the reply is never sent.
          return decide(plugin, c, { check: CHECK, result: 'clean', reply: INFECTED }, 'accept')
        },
      },
    }
  },
})
