// gateway-content (inbound only: it inspects mail arriving from the Internet and
// refuses to load in the outbound instance): content inspection of each message.
// - size: over-size mail gets "552 5.3.4" (at MAIL FROM SIZE= and after DATA);
//   the limit is Haraka's connection.ini [max] bytes, also advertised in EHLO SIZE;
// - attachments: blocked file extensions and MIME types, Windows programs by
//   content, also inside ZIP archives (nested, within limits) and attached
//   messages; an archive that cannot be inspected, an attached message over the
//   parsing limits, and MIME structure Haraka's parser may read differently from
//   mail readers are a finding of their own ("archive", unreadable_action);
// - rules: operator regular expressions on a header or the body text.
// Every finding goes through decide() with the configured action, so reject,
// tempfail, quarantine, tag, accept and monitor all work. Virus scanning is not
// done here. Settings: <instance>/config/gateway-content.ini.

import path from 'node:path'

import { ConfigError } from '../../lib/config/errors'
import { pluginConfigFile } from '../../lib/config/plugin-config'
import { displayPath, instanceConfigDir } from '../../lib/config/paths'
import { AttachmentPolicy } from '../../lib/content/attachment-policy'
import { loadContentConfig } from '../../lib/content/config'
import { archiveFinding, attachmentFinding, ruleFinding, sizeFinding } from '../../lib/content/findings'
import { MessageScan } from '../../lib/content/message-scan'
import type { AttachmentStart, MimePart } from '../../lib/content/mime'
import { headerLinesProblem } from '../../lib/content/mime-structure'
import { matchingRules } from '../../lib/content/rules'
import { maxMessageBytes } from '../../lib/content/size'
import { definePlugin, type Hooks } from '../../lib/plugin/define'
import type { Verdict } from '../../lib/plugin/verdict'
import { decide, type Action, type Finding } from '../../lib/policy/actions'
import { installSizeReplies } from './size-replies'

const NAME = 'gateway-content'
const HOOK_TIMEOUT_MS = 20_000

/** What Haraka's Transaction offers for MIME parsing (haraka 3.3.4 transaction.js). */
interface ParsingTransaction {
  parse_body: boolean
  body: MimePart | null
  attachment_hooks(start: AttachmentStart): void
  /** The message header lines it parsed: at most cfg.headers.max_lines (default 1000), the rest dropped. */
  header_lines: readonly string[]
  cfg?: { headers?: { max_lines?: unknown } }
}

export = definePlugin({
  name: NAME,
  hookTimeoutMs: HOOK_TIMEOUT_MS,
  setup({ plugin, instance }) {
    if (instance !== 'inbound') {
      throw new ConfigError(displayPath(path.join(instanceConfigDir(), 'plugins')), NAME, 'inspects Internet mail and belongs to the inbound instance only')
    }
    const cfg = loadContentConfig(pluginConfigFile(NAME))
    // Read on every use: Haraka reloads connection.ini when it changes, and so does its config cache.
    const limit = () => maxMessageBytes(plugin.config.get('connection.ini'))
    const attachments = cfg.attachments
    const policy = new AttachmentPolicy(
      attachments.enabled
        ? { blockedExtensions: attachments.blockedExtensions, blockedMimeTypes: attachments.blockedMimeTypes, blockExecutableContent: attachments.blockExecutableContent }
        : { blockedExtensions: [], blockedMimeTypes: [], blockExecutableContent: false },
    )
    const bodyRules = cfg.rules.some((r) => r.target.kind === 'body')
    const parseBody = attachments.enabled || bodyRules
    const scans = new WeakMap<Haraka.Transaction, MessageScan>()
    const hooks: Partial<Hooks> = {}

    if (cfg.size.enabled) {
      hooks.connect_init = (c) => installSizeReplies(plugin, c, limit)
      hooks.max_data_exceeded = (c) => decide(plugin, c, sizeFinding('message_size_exceeded', c.transaction?.data_bytes ?? 0, limit()), 'reject')
    }

    if (parseBody) {
      // Before the first byte of the message: Haraka's parser must see all of it.
      hooks.data = (c) => {
        const txn = c.transaction
        if (!txn) return undefined
        const parsing = txn as Haraka.Transaction & ParsingTransaction
        const scan = new MessageScan({
          policy,
          archives: attachments.enabled ? cfg.archives : undefined,
          maxTextChars: bodyRules ? cfg.ruleMaxChars : 0,
          checkStructure: attachments.enabled,
        })
        scans.set(txn, scan)
        parsing.parse_body = true
        if (attachments.enabled) parsing.attachment_hooks(scan.onAttachment)
        return undefined
      }
    }

    if (parseBody || cfg.rules.length > 0) {
      hooks.data_post = async (c) => {
        const txn = c.transaction
        if (!txn) return undefined
        const findings: [Finding, Action][] = []
        let texts: readonly string[] = []
        if (parseBody) {
          const scan = scans.get(txn)
          // Never pass a message unchecked: this happens only if a plugin before this one accepted the data hook.
          if (!scan) throw new Error('message was not prepared for inspection at DATA')
          const parsed = txn as Haraka.Transaction & ParsingTransaction
          if (attachments.enabled) {
            // the same default as transaction.js
            const dropped = headerLinesProblem(parsed.header_lines.length, Number(parsed.cfg?.headers?.max_lines) || 1000)
            if (dropped) scan.issue({ ...dropped, path: ['(message)'] })
          }
          const report = await scan.finish(parsed.body)
          texts = report.texts
          const blocked = attachmentFinding(report.blocked)
          if (blocked) findings.push([blocked, attachments.action])
          const unreadable = archiveFinding(report.issues)
          if (unreadable) findings.push([unreadable, cfg.unreadableAction])
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
