// gateway-outbound-scrub (OUTBOUND ONLY): header fields that are internal are
// removed before a message leaves for the Internet: the gateway's own X-Gateway-*
// family (e.g. the inbound verdicts on a message a user forwards), the internal
// headers the operator lists, and the Received hops made inside the organisation
// (they name internal hosts, addresses and the relay's own client). Mail whose
// recipients are all in accepted domains stays inside and is left alone.
//
// It works twice, with the same idempotent rules (lib/outbound/scrub.ts):
// - queue_outbound, before gateway-spool: if scrubbing fails the sender gets a
//   451 and nothing leaves with internal headers;
// - pre_send_trans_email, which Haraka runs (in plugin order) after gateway-spool
//   wrote its X-Gateway-* marks, right before the queue file is written: it
//   removes those, and haraka-plugin-dkim, listed after this plugin, then signs
//   the final header. Haraka ignores that hook's outcome, so a failure there is
//   logged as an error (the first pass already removed everything else).
//
// Being the last step before signing, it also lets a message whose domains have
// no DKIM key skip haraka-plugin-dkim, which would log an ERROR for each such
// message (lib/dkim/unsigned.ts): unsigned is the documented outcome, said once
// at start and at INFO per message.

import path from 'node:path'

import { ConfigError } from '../../lib/config/errors'
import { gatewayConfig } from '../../lib/config/gateway'
import { readList } from '../../lib/config/ini'
import { pluginConfig } from '../../lib/config/plugin-config'
import { displayPath, instanceConfigDir } from '../../lib/config/paths'
import { field } from '../../lib/config/schema'
import { NetworkList } from '../../lib/net/address'
import { checkOutboundOrder, SCRUB } from '../../lib/outbound/plugin-order'
import { applyScrub, planScrub, PRIVATE_NETWORKS, RECEIVED_MODES, type ScrubRules } from '../../lib/outbound/scrub'
import { DKIM_PLUGIN, hasDefaultKey, keyDomains, unsignedReason } from '../../lib/dkim/unsigned'
import { definePlugin } from '../../lib/plugin/define'

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
  name: SCRUB,
  setup({ plugin, instance }) {
    const pluginsFile = path.join(instanceConfigDir(), 'plugins')
    if (instance !== 'outbound') {
      throw new ConfigError(displayPath(pluginsFile), SCRUB, 'is outbound-only (it removes internal headers from mail leaving for the Internet); remove it from this instance')
    }
    const entries = readList(pluginsFile).map((e) => ({ name: e.value.replace(/^haraka-plugin-/, ''), line: e.line }))
    checkOutboundOrder(entries, displayPath(pluginsFile))

    const { main } = pluginConfig(SCRUB, schema)
    const rules: ScrubRules = {
      names: new Set(main.strip.map((n) => n.toLowerCase())),
      prefixes: main.strip_prefix.map((p) => p.toLowerCase()),
      received: main.strip_received,
      isInternal: (ip) => main.internal_networks.contains(ip),
    }
    const { acceptedDomains } = gatewayConfig()
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
    // dkim listed (after this plugin: checked above) and no default key that signs everything
    const skipUnsigned = entries.some((e) => e.name === DKIM_PLUGIN) && !hasDefaultKey(configDir)
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
      txn.notes.skip_plugins?.push(DKIM_PLUGIN)
      // Haraka's stand-in connection logs without an id: name the message
      ctx.loginfo(plugin, `${txn.uuid} sent unsigned: ${why}`)
    }

    // Registered by hand: the adapter's hook set has no pre_send_trans_email, and
    // a deny there would run every plugin's deny hook on Haraka's stand-in connection.
    plugin.gateway_pre_send_trans_email = (next: Haraka.Next, ctx: Haraka.QueueingContext) => {
      try {
        scrub(ctx, ctx.transaction, 'pre_send_trans_email')
        if (skipUnsigned) skipDkimIfUnsigned(ctx, ctx.transaction)
      } catch (err) {
        ctx.logerror(plugin, `hook pre_send_trans_email failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
      }
      next()
    }
    plugin.register_hook('pre_send_trans_email', 'gateway_pre_send_trans_email')

    return {
      hooks: {
        queue_outbound(c) {
          if (c.transaction) scrub(c, c.transaction, 'queue_outbound')
          return undefined // gateway-spool queues it next
        },
      },
    }
  },
})
