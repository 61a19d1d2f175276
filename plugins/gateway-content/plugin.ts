// gateway-content (inbound only: it inspects mail arriving from the Internet and
// refuses to load in the outbound instance): content inspection of each message.
// - size: over-size mail gets "552 5.3.4" (at MAIL FROM SIZE= and after DATA);
//   the limit is Haraka's connection.ini [max] bytes, also advertised in EHLO SIZE;
// - attachments: blocked file extensions and MIME types, Windows programs by
//   content, also inside ZIP archives (nested, within limits) and attached
//   messages, reading the stored message as mail clients do (lib/content/mime-reader.ts);
//   an archive that cannot be inspected and a message past the reading limits
//   are a finding of their own ("archive", unreadable_action), and so is an
//   archive bomb ("archive-bomb", bomb_action: lib/content/archive-bomb.ts);
// - rules: operator regular expressions on a header or the body text.
// Every finding goes through decide() with the configured action, so reject,
// tempfail, quarantine, tag, accept and monitor all work. Virus scanning is not
// done here. Settings: <instance>/config/gateway-content.ini.

import { AttachmentPolicy } from '../../lib/content/attachment-policy'
import { loadContentConfig } from '../../lib/content/config'
import { archiveFinding, attachmentFinding, bombFinding, ruleFinding, sizeFinding } from '../../lib/content/findings'
import { scanMessage } from '../../lib/content/message-scan'
import { matchingRules } from '../../lib/content/rules'
import { maxMessageBytes } from '../../lib/content/size'
import { droppedHeaderLines, readStoredMessage } from '../../lib/content/stored-message'
import { definePlugin, type Hooks } from '../../lib/plugin/define'
import type { Verdict } from '../../lib/plugin/verdict'
import { decide, type Action, type Finding } from '../../lib/policy/actions'
import { installSizeReplies } from './size-replies'

const NAME = 'gateway-content'
const HOOK_TIMEOUT_MS = 20_000

/** What of Haraka's Transaction the content checks read (haraka 3.3.4 transaction.js; no typings). */
interface StoredTransaction {
  readonly message_stream: Parameters<typeof readStoredMessage>[0]
  readonly header_lines: readonly string[]
}

export = definePlugin({
  name: NAME,
  instances: ['inbound'],
  hooks: ['connect_init', 'max_data_exceeded', 'data_post'],
  config: loadContentConfig,
  hookTimeoutMs: HOOK_TIMEOUT_MS,
  setup({ plugin, config: cfg }) {
    // Read once, and again when connection.ini changes (haraka-config watches the file and calls
    // back): a get() at every MAIL costs file-system calls (missing-file probes, watch set-up).
    const readLimit = (): number => maxMessageBytes(plugin.config.get('connection.ini', 'ini', () => (maxBytes = readLimit())))
    let maxBytes = readLimit()
    const limit = () => maxBytes
    const attachments = cfg.attachments
    const policy = new AttachmentPolicy(
      attachments.enabled
        ? { blockedExtensions: attachments.blockedExtensions, blockedMimeTypes: attachments.blockedMimeTypes, blockExecutableContent: attachments.blockExecutableContent }
        : { blockedExtensions: [], blockedMimeTypes: [], blockExecutableContent: false },
    )
    const bodyRules = cfg.rules.some((r) => r.target.kind === 'body')
    const parseBody = attachments.enabled || bodyRules
    const scanOptions = { policy, archives: attachments.enabled ? cfg.archives : undefined, maxTextChars: bodyRules ? cfg.ruleMaxChars : 0, mime: cfg.mime }
    const hooks: Partial<Hooks> = {}

    if (cfg.size.enabled) {
      hooks.connect_init = (c) => installSizeReplies(plugin, c, limit)
      hooks.max_data_exceeded = (c) => decide(plugin, c, sizeFinding('message_size_exceeded', c.transaction?.data_bytes ?? 0, limit()), 'reject')
    }

    if (parseBody || cfg.rules.length > 0) {
      hooks.data_post = async (c) => {
        const txn = c.transaction
        if (!txn) return undefined
        const findings: [Finding, Action][] = []
        let texts: readonly string[] = []
        if (parseBody) {
          // The message as it will be delivered; Haraka's own body parser is not involved.
          const stored = txn as Haraka.Transaction & StoredTransaction
          const report = await readStoredMessage(stored.message_stream, (message) => scanMessage(message, scanOptions))
          texts = report.texts
          const blocked = attachmentFinding(report.blocked)
          if (blocked) findings.push([blocked, attachments.action])
          const dropped = droppedHeaderLines(stored)
          const unreadable = archiveFinding(dropped ? [dropped, ...report.issues] : report.issues)
          if (unreadable) findings.push([unreadable, cfg.unreadableAction])
          const bomb = bombFinding(report.issues)
          if (bomb && cfg.archives) findings.push([bomb, cfg.archives.bombAction])
        }
        const header = (name: string) => txn.header.get_decoded(name)
        for (const rule of matchingRules(cfg.rules, { header, texts }, cfg.ruleMaxChars)) findings.push([ruleFinding(rule), rule.action])

        // Every finding is decided (and so recorded); a permanent refusal wins over a temporary one.
        let verdict: Verdict | undefined
        for (const [finding, action] of findings) {
          const v = decide(plugin, c, finding, action)
          if (v && (!verdict || (verdict.kind === 'tempfail' && v.kind === 'reject'))) verdict = v
        }
        return verdict
      }
    }
    return { hooks }
  },
})
