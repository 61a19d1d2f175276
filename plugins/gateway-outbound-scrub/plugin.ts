// gateway-outbound-scrub (OUTBOUND ONLY): header fields that are internal are
// removed before a message leaves for the Internet: the gateway's own X-Gateway-*
// family (e.g. the inbound verdicts on a message a user forwards), the internal
// headers the operator lists, and the Received hops made inside the organisation
// (they name internal hosts, addresses and the relay's own client). Mail whose
// recipients are all in accepted domains stays inside and is left alone.
//
// It works twice, with the same idempotent rules (lib/header-scrub/scrub.ts):
// - queue_outbound, before gateway-spool: if scrubbing fails the sender gets a
//   451 and nothing leaves with internal headers;
// - pre_send_trans_email, which Haraka runs (in plugin order) after gateway-spool
//   wrote its X-Gateway-* marks, right before the queue file is written: it
//   removes those, and haraka-plugin-dkim, listed after this plugin, then signs
//   the final header. Haraka ignores that hook's outcome, so a failure there is
//   logged as an error (the first pass already removed everything else).
// Both places in the order are declared (gateway-spool ends queue_outbound, so
// this plugin comes first; dkim comes after) and checked at startup.
//
// Being the last step before signing, it also lets a message whose domains have
// no DKIM key skip haraka-plugin-dkim, which would log an ERROR for each such
// message (lib/sender-auth/dkim-unsigned.ts): unsigned is the documented outcome, said once
// at start and at INFO per message.

import path from 'node:path'

import { readList } from '../../lib/config/ini'
import { instanceConfigDir } from '../../lib/config/paths'
import { field } from '../../lib/config/schema'
import { NetworkList } from '../../lib/net/address'
import { applyScrub, planScrub, PRIVATE_NETWORKS, RECEIVED_MODES, type ScrubRules } from '../../lib/header-scrub/scrub'
import { DKIM_PLUGIN, hasDefaultKey, keyDomains, unsignedReason } from '../../lib/sender-auth/dkim-unsigned'
import { pluginName } from '../../lib/plugin/catalog'
import { definePlugin } from '../../lib/plugin/define'
import { SKIP_PLUGINS } from '../../lib/plugin/haraka-notes'

const schema = {
  main: {
    /** More internal header names to remove (case-insensitive), e.g. X-Originating-IP. X-Gateway-* always goes. */
    strip: field.stringList({ default: [] }),
    /** Header name prefixes to remove, e.g. X-MS-Exchange-Organization-. */
    strip_prefix: field.stringList({ default: [] }),
    /** Received fields: internal (hops made inside), all, or none. */
    strip_received: field.oneOf(RECEIVED_MODES, { default: 'internal' }),
    /** Networks that count as internal besides the private, loopback and link-local ones (e.g. a public range used inside). */
    internal_networks: field.listOf((items) => new NetworkList([...PRIVATE_NETWORKS, ...items])),
  },
}

type Txn = Haraka.Transaction
type Log = Pick<Haraka.QueueingContext, 'loginfo'>

export = definePlugin({
  name: 'gateway-outbound-scrub',
  instances: ['outbound'],
  hooks: ['queue_outbound', 'pre_send_trans_email'],
  config: schema,
  order: { before: { [DKIM_PLUGIN]: 'haraka-plugin-dkim must sign the header as scrubbed' } },
  setup({ plugin, config: { main }, gateway }) {
    const rules: ScrubRules = {
      names: new Set(main.strip.map((n) => n.toLowerCase())),
      prefixes: main.strip_prefix.map((p) => p.toLowerCase()),
      received: main.strip_received,
      isInternal: (ip) => main.internal_networks.contains(ip),
    }
    const { acceptedDomains } = gateway
    // One recipient on the Internet is enough: all recipients share one header.
    const leavesUs = (txn: Txn) => txn.rcpt_to.some((r) => !acceptedDomains.has((r.host ?? '').toLowerCase()))

    const scrub = (log: Log, txn: Txn, stage: string) => {
      if (!leavesUs(txn)) return
      const plan = planScrub(txn.header.header_list, rules)
      if (plan.remove.length === 0) return
      applyScrub(txn.header, plan)
      log.loginfo(plugin, `removed ${plan.remove.length} internal header field(s) at ${stage}: ${plan.names.join(', ')}${plan.received ? ` (${plan.received} Received)` : ''}`)
      txn.results.add(plugin, { msg: `scrubbed ${plan.names.join(',')}` })
    }

    const configDir = instanceConfigDir()
    // dkim listed (after this plugin: declared above) and no default key that signs everything
    const dkimListed = readList(path.join(configDir, 'plugins')).some((e) => pluginName(e.value) === DKIM_PLUGIN)
    const skipUnsigned = dkimListed && !hasDefaultKey(configDir)
    if (skipUnsigned) {
      const keys = keyDomains(configDir)
      plugin.lognotice(
        keys.length
          ? `DKIM keys for: ${keys.join(', ')} (and their subdomains); mail of other domains is sent unsigned`
          : 'no DKIM keys yet: mail is sent unsigned (node bin/gateway dkim keygen DOMAIN creates one)',
      )
    }
    const skipDkimIfUnsigned = (ctx: Haraka.QueueingContext, txn: Txn) => {
      const why = unsignedReason(configDir, {
        from: txn.header.get_all('From'),
        sender: txn.header.get_all('Sender'),
        envelopeDomain: txn.mail_from?.host ?? '',
      })
      if (!why) return
      SKIP_PLUGINS.get(txn)?.push(DKIM_PLUGIN)
      // Haraka's stand-in connection logs without an id: name the message
      ctx.loginfo(plugin, `${txn.uuid} sent unsigned: ${why}`)
    }

    return {
      hooks: {
        queue_outbound(c, txn) {
          scrub(c, txn, 'queue_outbound')
          return undefined // gateway-spool queues it next
        },
        // Observe-only: Haraka ignores the outcome, so a failure is an error in the log.
        pre_send_trans_email(ctx, txn) {
          scrub(ctx, txn, 'pre_send_trans_email')
          if (skipUnsigned) skipDkimIfUnsigned(ctx, txn)
        },
      },
    }
  },
})
