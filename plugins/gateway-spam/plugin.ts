// gateway-spam (INBOUND ONLY): every message from the Internet is scanned by
// rspamd at the end of DATA; its verdict becomes a spam confidence level (SCL
// 0-9, see lib/scanners/scl.ts) written into X-Gateway-SCL, and the operator's SCL
// thresholds choose reject / quarantine / tag / accept through the policy
// framework (decide()). When rspamd cannot answer, [main] on_error decides:
// tempfail (the sender retries) or accept with "X-Gateway-Spam: unscanned".
// The outbound instance must not load it (outgoing mail is not spam-scanned, so
// it stays fast): declared inbound only.

import { ConfigError } from '../../lib/config/errors'
import { readIni } from '../../lib/config/ini'
import { displayPath } from '../../lib/config/paths'
import { field, validate } from '../../lib/config/schema'
import { engineOff, SPAM_ENGINE_ENV, spamEngineFields } from '../../lib/scanners/engine-settings'
import { formatHostPort } from '../../lib/net/address'
import { definePlugin } from '../../lib/plugin/define'
import { decide, type Action, type Finding } from '../../lib/policy/actions'
import { reply, REPLIES } from '../../lib/smtp/reply'
import { scanMessage, RspamdError, type MessageSource, type ScanEnvelope } from '../../lib/scanners/rspamd-client'
import type { CheckResult } from '../../lib/scanners/rspamd-result'
import { outcomeFor, sclOf, thresholdProblem } from '../../lib/scanners/scl'

const NAME = 'gateway-spam'
const CHECK = 'spam'
/** The client's deadline stays below the adapter's, so on_error (not a blanket 451) handles a slow rspamd. */
const MAX_TIMEOUT_MS = 25_000

const schema = {
  main: {
    /** rspamd's scan worker (normal worker), host:port; GATEWAY_RSPAMD_SERVER overrides it (`gateway start` sets it for a private rspamd). */
    server: spamEngineFields.server,
    /** Longest one scan may take (connect, send, answer). */
    timeout_ms: field.int({ default: 15_000, min: 100, max: MAX_TIMEOUT_MS }),
    /** rspamd unreachable, too slow or answering nonsense: tempfail (451, sender retries) or accept unscanned; GATEWAY_SPAM_ON_ERROR overrides it. */
    on_error: spamEngineFields.on_error,
    /** Trial mode: scan, record and label, but every decision becomes "monitor" (nothing refused, held or tagged). */
    monitor: field.bool({ default: false }),
  },
  scl: {
    /** SCL from which the message is refused with 550 5.7.1; 0 = never. */
    reject: field.int({ default: 9, min: 0, max: 9 }),
    /** SCL from which it is held in the quarantine (the sender sees 250); 0 = never. */
    quarantine: field.int({ default: 7, min: 0, max: 9 }),
    /** SCL from which it is delivered tagged (X-Gateway-Tag, subject prefix); 0 = never. */
    tag: field.int({ default: 5, min: 0, max: 9 }),
  },
}

const SPAM_REPLY = reply(550, '5.7.1', 'Message rejected as spam')

/** The settings; the SCL thresholds must make sense together. */
function loadSettings(file: string) {
  const cfg = validate(readIni(file), file, schema)
  const bad = thresholdProblem(cfg.scl)
  if (bad) throw new ConfigError(displayPath(file), `[scl] ${bad.key}`, bad.problem)
  return cfg
}

export = definePlugin({
  name: NAME,
  instances: ['inbound'],
  hooks: ['data_post'],
  config: loadSettings,
  hookTimeoutMs: MAX_TIMEOUT_MS + 2_000,
  setup({ plugin, config: cfg }) {
    const client = { server: cfg.main.server, timeoutMs: cfg.main.timeout_ms }
    // The launcher's banner says OFF; an instance log read on its own should say it too, once.
    if (engineOff(SPAM_ENGINE_ENV)) {
      const meanwhile = cfg.main.on_error === 'accept' || cfg.main.monitor ? 'mail is delivered marked "X-Gateway-Spam: unscanned"' : 'mail is refused with 451 (on_error=tempfail)'
      plugin.lognotice(`spam scanning OFF (gateway start found no rspamd): ${meanwhile} until rspamd answers at ${formatHostPort(cfg.main.server)}`)
    }
    // Monitor mode keeps every decision on record (X-Gateway-Checks, counters) but acts on none.
    const act = (action: Action): Action => (cfg.main.monitor ? 'monitor' : action)

    const onScanned = (c: Haraka.Connection, txn: Haraka.Transaction, r: CheckResult) => {
      const scl = sclOf(r)
      // The header firewall strips X-Gateway-* from outside; removing here too keeps ours the only one.
      txn.remove_header('X-Gateway-SCL')
      txn.add_leading_header('X-Gateway-SCL', String(scl))
      txn.results.add(plugin, { scl, score: r.score, required_score: r.requiredScore, rspamd_action: r.action })
      const outcome = outcomeFor(scl, cfg.scl)
      const finding: Finding = {
        check: CHECK,
        result: `scl_${scl}`,
        detail: `score=${r.score}/${r.requiredScore} rspamd_action=${r.action} symbols=${r.symbols.slice(0, 40).join(',')}`,
        reply: SPAM_REPLY,
        tag: `likely spam (SCL ${scl})`,
      }
      return decide(plugin, c, finding, act(outcome))
    }

    const onError = (c: Haraka.Connection, txn: Haraka.Transaction, err: unknown) => {
      const why = err instanceof RspamdError ? `${err.failure}: ${err.message}` : String(err)
      const finding: Finding = { check: CHECK, result: 'unscanned', detail: `rspamd ${why}`, reply: REPLIES.localError }
      if (cfg.main.on_error === 'accept' || cfg.main.monitor) {
        txn.remove_header('X-Gateway-Spam')
        txn.add_leading_header('X-Gateway-Spam', 'unscanned')
        return decide(plugin, c, finding, act('accept'))
      }
      // 451 4.7.1 with the generic local-problem text: the sender retries later
      return decide(plugin, c, finding, 'tempfail')
    }

    return {
      hooks: {
        async data_post(c, txn) {
          let result: CheckResult
          try {
            result = await scanMessage(client, envelopeOf(c, txn), messageOf(txn))
          } catch (err) {
            return onError(c, txn, err)
          }
          return onScanned(c, txn, result)
        },
      },
    }
  },
})

/** Haraka's placeholders when the client has no usable reverse DNS name. */
const NO_RDNS: ReadonlySet<string> = new Set(['NXDOMAIN', 'DNSERROR', 'Unknown', 'unknown'])

function envelopeOf(c: Haraka.Connection, txn: Haraka.Transaction): ScanEnvelope {
  const rdns = c.remote.host
  return {
    ip: c.remote.ip,
    helo: c.hello.host,
    hostname: rdns && !NO_RDNS.has(rdns) ? rdns : null,
    from: txn.mail_from.isNull() ? '' : txn.mail_from.address,
    rcpts: txn.rcpt_to.map((r) => r.address),
    queueId: txn.uuid,
  }
}

/** message_stream is an EventEmitter at runtime (haraka-message-stream): its read errors end the scan at once. */
function messageOf(txn: Haraka.Transaction): MessageSource {
  return txn.message_stream as unknown as MessageSource
}
