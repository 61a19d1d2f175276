// Turns what the content checks found into policy Findings (lib/policy/actions.ts):
// check names, result names, the generic SMTP replies and tag texts. One finding
// per check and message, however many attachments matched, so counters count
// messages; the log detail names the first few items.

import type { Finding } from '../policy/actions'
import { reply } from '../smtp/reply'
import type { ArchiveIssue } from './archive-scan'
import type { BlockReason } from './attachment-policy'
import type { BlockedItem } from './message-scan'
import type { ContentRule } from './rules'

export const CHECK = Object.freeze({
  size: 'size',
  attachment: 'attachment',
  archive: 'archive',
  bomb: 'archive-bomb',
  rule: (name: string) => `content-rule:${name}`,
})

export const CONTENT_REPLIES = Object.freeze({
  // RFC 1870 / RFC 3463: the permanent answer to a message over the server's fixed limit
  size: reply(552, '5.3.4', 'Message size exceeds fixed maximum message size'),
  attachment: reply(554, '5.7.1', 'Message contains a blocked attachment type'),
  archive: reply(554, '5.7.1', 'Message contains an attachment that cannot be inspected'),
  bomb: reply(554, '5.7.1', 'Message contains an attachment that expands too much'),
  rule: reply(554, '5.7.1', 'Message content rejected'),
})

const RESULT_OF: Record<BlockReason, string> = {
  extension: 'blocked_extension',
  mime_type: 'blocked_mime_type',
  windows_executable: 'executable_content',
}
const SHOWN = 5

export function sizeFinding(result: 'declared_size_exceeded' | 'message_size_exceeded', bytes: number, max: number): Finding {
  return { check: CHECK.size, result, detail: `${bytes} bytes > ${max}`, reply: CONTENT_REPLIES.size, tag: 'message too large' }
}

/** The result names the most telling reason: what the name says, then the declared type, then the content. */
const PRECEDENCE: readonly BlockReason[] = ['extension', 'mime_type', 'windows_executable']

export function attachmentFinding(blocked: readonly BlockedItem[]): Finding | undefined {
  if (blocked.length === 0) return undefined
  const reasons = new Set(blocked.map((b) => b.block.reason))
  const reason = PRECEDENCE.find((r) => reasons.has(r))!
  return {
    check: CHECK.attachment,
    result: RESULT_OF[reason],
    detail: describe(blocked.map((b) => `${b.path.join(' > ')}: ${b.block.reason} ${b.block.value}`)),
    reply: CONTENT_REPLIES.attachment,
    tag: 'blocked attachment type',
  }
}

/** What could not be inspected (bombs are bombFinding's). */
export function archiveFinding(all: readonly ArchiveIssue[]): Finding | undefined {
  const issues = all.filter((i) => i.problem !== 'bomb')
  const first = issues[0]
  if (!first) return undefined
  return {
    check: CHECK.archive,
    result: `archive_${first.problem}`,
    detail: describe(issues.map((i) => `${i.path.join(' > ')}: ${i.problem} (${i.detail})`)),
    reply: CONTENT_REPLIES.archive,
    tag: 'attachment could not be inspected',
  }
}

/** An archive bomb (archive-bomb.ts): its own check, so its action is configured apart from "cannot be inspected". */
export function bombFinding(all: readonly ArchiveIssue[]): Finding | undefined {
  const bombs = all.filter((i) => i.problem === 'bomb')
  if (bombs.length === 0) return undefined
  return {
    check: CHECK.bomb,
    result: 'archive_bomb',
    detail: describe(bombs.map((i) => `${i.path.join(' > ')}: ${i.detail}`)),
    reply: CONTENT_REPLIES.bomb,
    tag: 'archive bomb',
  }
}

export function ruleFinding(rule: ContentRule): Finding {
  const target = rule.target.kind === 'header' ? `header ${rule.target.header}` : 'body'
  return { check: CHECK.rule(rule.name), result: 'matched', detail: `${target} matches ${rule.regex}`, reply: CONTENT_REPLIES.rule, tag: rule.tag || rule.name }
}

function describe(items: string[]): string {
  const more = items.length > SHOWN ? `; and ${items.length - SHOWN} more` : ''
  return items.slice(0, SHOWN).join('; ') + more
}
