// gateway-bounce (both instances): what happens when a delivery queue gives up on
// a message (a 5xx from the remote or internal server, or retries exhausted). The
// sender gets an RFC 3464 delivery status notification, which Haraka queues like
// any message, so gateway-routing takes it to the internal mail servers. A DSN is
// made only for senders in an accepted domain: anything else is dropped (logged)
// or goes to the configured postmaster, never out to the Internet. On inbound
// every sender is outside: a DSN there would be backscatter to a possibly forged
// address and would carry the internal server's name and answer.

import { ConfigError } from '../../lib/config/errors'
import { gatewayConfig } from '../../lib/config/gateway'
import { readIni } from '../../lib/config/ini'
import { displayPath } from '../../lib/config/paths'
import { field, validate } from '../../lib/config/schema'
import { rewriteBounceMessages } from '../../lib/haraka'
import { definePlugin } from '../../lib/plugin/define'
import { CONT, DROP } from '../../lib/plugin/verdict'
import { trackDsnSent } from '../../lib/tracking/emit'
import { completeFailedRecipient, routeDsn, withoutFalseEnvelopeId, type DsnPolicy } from '../../lib/queue/dsn'

const schema = {
  foreign_sender: {
    /** The DSN of a sender outside the accepted domains: drop it (logged) or send it to `postmaster`. */
    action: field.oneOf(['drop', 'postmaster'] as const, { default: 'drop' }),
    /** Address in an accepted domain; required when action=postmaster. */
    postmaster: field.string({ default: '' }),
  },
}

// Haraka's own address class (the package is ESM-first; its CommonJS build is what Haraka uses)
const { Address } = require('@haraka/email-address') as { Address: new (text: string) => Haraka.Address }

/** The settings; a postmaster must be an address in an accepted domain (config/accepted_domains). */
function loadSettings(file: string) {
  const where = displayPath(file)
  const { foreign_sender: cfg } = validate(readIni(file), file, schema)
  const { acceptedDomains } = gatewayConfig()
  let postmaster: Haraka.Address | undefined
  if (cfg.action === 'postmaster') {
    try {
      postmaster = new Address(`<${cfg.postmaster}>`)
    } catch {
      throw new ConfigError(where, '[foreign_sender] postmaster', `"${cfg.postmaster}" is not an email address`)
    }
    if (!postmaster.user || !acceptedDomains.has((postmaster.host ?? '').toLowerCase())) {
      throw new ConfigError(where, '[foreign_sender] postmaster', `"${cfg.postmaster}" must be an address in an accepted domain (config/accepted_domains)`)
    }
  }
  return { ...cfg, postmasterAddress: postmaster }
}

export = definePlugin({
  name: 'gateway-bounce',
  instances: ['inbound', 'outbound'],
  hooks: ['bounce'],
  config: loadSettings,
  setup({ plugin, config: cfg, gateway }) {
    const policy: DsnPolicy = { acceptedDomains: gateway.acceptedDomains, foreignSender: cfg.action, postmaster: cfg.postmaster }
    const postmaster = cfg.postmasterAddress

    // Haraka writes the Message-ID as Original-Envelope-Id, a field RFC 3464 reserves for an ESMTP ENVID,
    // and hands the reason over as an Error: the text part would read "Reason: Error: 550 ...".
    // (Installed once per process, on the class: every bounce passes through it.)
    rewriteBounceMessages(plugin, {
      reason: (reason) => (reason instanceof Error ? reason.message : reason),
      lines: withoutFalseEnvelopeId,
    })

    return {
      hooks: {
        bounce: {
          // cannot tell where the DSN would go: keeping it inside beats a DSN to the Internet
          onFailure: DROP,
          run(hmail) {
            const route = routeDsn(hmail.todo.mail_from, policy)
            const rcpts = hmail.todo.rcpt_to.map((r) => r.address).join(',')
            switch (route.kind) {
              case 'null-sender':
                return CONT // Haraka discards a failed DSN (no DSN about a DSN)
              case 'drop':
                hmail.lognotice(plugin, `no DSN: sender ${hmail.todo.mail_from.address} is outside the accepted domains (failed: ${rcpts})`)
                return DROP
              case 'postmaster':
                hmail.lognotice(plugin, `DSN for ${hmail.todo.mail_from.address} (outside the accepted domains) goes to ${route.address} (failed: ${rcpts})`)
                hmail.todo.mail_from = postmaster!
                trackDsnSent(hmail, route.address)
                break
              case 'sender':
                trackDsnSent(hmail, hmail.todo.mail_from.address)
                break
            }
            for (const r of hmail.todo.rcpt_to) completeFailedRecipient(r)
            return CONT
          },
        },
      },
    }
  },
})
