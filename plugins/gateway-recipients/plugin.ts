// gateway-recipients (inbound): refuses unknown recipients at RCPT (550 5.1.1),
// before any data is transferred, so the internal server never has to bounce
// (backscatter) and spam for invented addresses costs nothing. Also refuses
// Internet mail to internal-only addresses (e.g. all-staff lists), and slows and
// then cuts off clients that probe many unknown addresses (directory harvest),
// counting in Redis so all inbound nodes share what they saw (without Redis: in
// this process, with the same window).
// Runs before gateway-accepted-domains, which has the final say on the domain.

import path from 'node:path'

import { gatewayConfig } from '../../lib/config/gateway'
import { instanceConfigDir } from '../../lib/config/paths'
import { pluginConfig } from '../../lib/config/plugin-config'
import { field } from '../../lib/config/schema'
import { definePlugin } from '../../lib/plugin/define'
import { tempfail, type Verdict } from '../../lib/plugin/verdict'
import { actionField, decide } from '../../lib/policy/actions'
import { canonicalDomain, hasRoutingSyntax } from '../../lib/mail/canonical'
import { canonical, FileDirectory, type RecipientDirectory } from '../../lib/recipients/directory'
import { HarvestCounter } from '../../lib/recipients/harvest'
import { acquireGatewayRedis } from '../../lib/redis/gateway-redis'
import { reply } from '../../lib/smtp/reply'
import { countDecision } from '../../lib/stats/decisions'

const schema = {
  main: {
    /** Valid recipients, one address per line, relative to this config folder; domains not listed are not validated. */
    file: field.string({ default: 'valid_recipients' }),
    /** Sub-address separator: alice+news@example.com is checked as alice@example.com. Empty: none. */
    subaddress_separator: field.string({ default: '+' }),
    /** What to do with an unknown recipient. */
    action: actionField('reject'),
  },
  internal_only: {
    /** Addresses that accept mail from inside only (lists, service aliases). */
    addresses: field.stringList({ default: [] }),
    action: actionField('reject'),
  },
  harvest: {
    enabled: field.bool({ default: true }),
    /** Unknown recipients per client IP and window after which each answer is delayed. */
    slow_after: field.int({ default: 3, min: 0, max: 10_000 }),
    /** ... after which the client is disconnected and refused until the window ends. */
    block_after: field.int({ default: 10, min: 1, max: 100_000 }),
    // capped below the 20 s after which the adapter itself answers 451 for a slow hook
    delay_ms: field.int({ default: 1000, min: 0, max: 15_000 }),
    max_delay_ms: field.int({ default: 10_000, min: 0, max: 15_000 }),
    window_seconds: field.int({ default: 600, min: 10, max: 86_400 }),
  },
}

const UNKNOWN = reply(550, '5.1.1', 'Recipient address rejected: User unknown')
const ROUTING_SYNTAX = reply(550, '5.1.3', 'Recipient address rejected: Bad destination mailbox address syntax')
const INTERNAL_ONLY = reply(550, '5.7.1', 'Recipient address rejected: Access denied')
const HARVEST_BLOCK = { code: 421, enhanced: '4.7.0', text: 'Too many unknown recipients, try again later' }
const SESSION_UNKNOWN = 'gateway_unknown_rcpts'

export = definePlugin({
  name: 'gateway-recipients',
  setup({ plugin }) {
    const cfg = pluginConfig('gateway-recipients', schema)
    const { acceptedDomains } = gatewayConfig()
    const directory: RecipientDirectory = new FileDirectory(path.resolve(instanceConfigDir(), cfg.main.file), cfg.main.subaddress_separator)
    const internalOnly = new Set(cfg.internal_only.addresses.map((a) => canonical(a, cfg.main.subaddress_separator)))
    const redis = cfg.harvest.enabled ? acquireGatewayRedis((level, m) => (level === 'error' ? plugin.logerror(m) : plugin.lognotice(m))) : undefined
    const harvest = redis
      ? new HarvestCounter(
          redis.client,
          (ip) => redis.keys.harvest(ip),
          {
            slowAfter: cfg.harvest.slow_after,
            blockAfter: cfg.harvest.block_after,
            delayMs: cfg.harvest.delay_ms,
            maxDelayMs: cfg.harvest.max_delay_ms,
            windowSeconds: cfg.harvest.window_seconds,
          },
          (m) => plugin.logwarn(m),
        )
      : undefined

    const cutOff = (c: Haraka.Connection, count: number): Verdict => {
      c.lognotice(plugin, `decision check=harvest result=blocked action=tempfail detail=${JSON.stringify(`${count} unknown recipients from ${c.remote.ip}`)}`)
      c.results.add(plugin, { fail: 'harvest:blocked' })
      countDecision('harvest', 'tempfail')
      return tempfail(HARVEST_BLOCK.code, HARVEST_BLOCK.enhanced, HARVEST_BLOCK.text, { disconnect: true })
    }

    /** Counts an unknown recipient; slows or cuts off the client when it probes too much. */
    const probed = async (c: Haraka.Connection, verdict: Verdict | undefined): Promise<Verdict | undefined> => {
      if (!harvest) return verdict
      const session = ((c.notes[SESSION_UNKNOWN] as number | undefined) ?? 0) + 1
      c.notes[SESSION_UNKNOWN] = session
      // the session's own count if higher: while Redis flaps, a session's probes may be split between Redis and memory
      const count = Math.max(session, await harvest.record(c.remote.ip))
      const { block, delayMs } = harvest.assess(count)
      if (block) return cutOff(c, count)
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
      return verdict
    }

    return {
      hooks: {
        ...(harvest && {
          async connect(c: Haraka.Connection) {
            const count = await harvest.current(c.remote.ip)
            return harvest.assess(count).block ? cutOff(c, count) : undefined
          },
        }),
        async rcpt(c, [rcpt]) {
          const domain = canonicalDomain(rcpt.host ?? '')
          if (!acceptedDomains.has(domain)) return undefined // not ours: gateway-accepted-domains refuses it
          if (hasRoutingSyntax(rcpt.address)) {
            // "allstaff%example.com@example.com": the internal server may route it on, past this check
            return decide(plugin, c, { check: 'recipient', result: 'routing_syntax', detail: rcpt.address, reply: ROUTING_SYNTAX }, cfg.main.action)
          }
          const address = canonical(rcpt.address, cfg.main.subaddress_separator)
          if (internalOnly.has(address)) {
            return decide(plugin, c, { check: 'recipient', result: 'internal_only', detail: address, reply: INTERNAL_ONLY }, cfg.internal_only.action)
          }
          if ((await directory.lookup(rcpt.address)) !== 'unknown') return undefined
          const verdict = decide(plugin, c, { check: 'recipient', result: 'unknown', detail: address, reply: UNKNOWN }, cfg.main.action)
          // only refused recipients count as probing; a filter on trial must not cut anyone off
          return verdict ? probed(c, verdict) : undefined
        },
      },
      shutdown: () => redis?.release(),
    }
  },
})
