// The names of the traffic counters, shared by the stats plugin (writer) and the
// CLI (reader), so a renamed counter cannot silently vanish from reports.

import * as constants from 'haraka-constants'

export const STAT = Object.freeze({
  connections: 'connections',
  recipientsAccepted: 'recipients_accepted',
  recipientsRejected: 'recipients_rejected',
  recipientsTempfailed: 'recipients_tempfailed',
  messagesAccepted: 'messages_accepted',
  messagesRejected: 'messages_rejected',
  messagesTempfailed: 'messages_tempfailed',
  bytesAccepted: 'bytes_accepted',
  sessionsRejected: 'sessions_rejected',
  redisWriteFailures: 'redis_write_failures',
})

const MESSAGE_HOOKS: ReadonlySet<string> = new Set(['data', 'data_post', 'queue', 'queue_outbound', 'max_data_exceeded'])
const SESSION_HOOKS: ReadonlySet<string> = new Set(['connect', 'helo', 'ehlo', 'mail', 'unrecognized_command'])

/** Which counter a denial at `hook` with Haraka return code `code` increments, if any. */
export function statForDenial(hook: string, code: number): string | undefined {
  const permanent = code === constants.deny || code === constants.denydisconnect
  if (hook === 'rcpt' || hook === 'rcpt_ok') return permanent ? STAT.recipientsRejected : STAT.recipientsTempfailed
  if (MESSAGE_HOOKS.has(hook)) return permanent ? STAT.messagesRejected : STAT.messagesTempfailed
  if (SESSION_HOOKS.has(hook)) return STAT.sessionsRejected
  return undefined
}
