// gateway-recipients (inbound): refuses unknown recipients at RCPT (550 5.1.1),
// before any data is transferred, so the internal server never has to bounce
// (backscatter) and spam for invented addresses costs nothing. Also refuses
// Internet mail to internal-only addresses (e.g. all-staff lists), and slows and
// then cuts off clients that probe many unknown addresses (directory harvest),
// counting in Redis so all inbound nodes share what they saw (without Redis: in
// this process, with the same window).
// Runs before gateway-accepted-domains, which has the final say on the domain
// (it ends the rcpt hook: checked at startup).

import path from 'node:path'

import { instanceConfigDir } from '../../lib/config/paths'
import { field } from '../../lib/config/schema'
import { definePlugin } from '../../lib/plugin/define'
import { sessionState } from '../../lib/plugin/state'
import { deny, type Verdict } from '../../lib/plugin/verdict'
import { actionField, decide } from '../../lib/policy/actions'
import { record } from '../../lib/policy/record'
import { canonicalDomain, hasRoutingSyntax } from '../../lib/address/canonical'
import { canonical, FileDirectory, type Lookup, type RecipientDirectory } from '../../lib/recipients/directory'
import { HarvestCounter } from '../../lib/recipients/harvest'
import { acquireGatewayRedis } from '../../lib/redis/gateway-redis'
import { reply } from '../../lib/smtp/reply'

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
const HARVEST_BLOCK = reply(421, '4.7.0', 'Too many unknown recipients, try again later')
/** Unknown recipients this session asked for. */
const SESSION_UNKNOWN = sessionState<number>('gateway_unknown_rcpts')

export = definePlugin({
  name: 'gateway-recipients',
  instances: ['inbound'],
  hooks: ['connect', 'rcpt'],
  config: schema,
  setup({ plugin, config: cfg, gateway }) {
    const { acceptedDomains } = gateway
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

    /** A decision like any other, but its answer is the cut-off's own (421, disconnect), not the policy's 451. */
    const cutOff = (c: Haraka.Connection, count: number): Verdict => {
      record(plugin, c, { check: 'harvest', result: 'blocked', action: 'tempfail', detail: `${count} unknown recipients from ${c.remote.ip}` })
      return deny(HARVEST_BLOCK, { disconnect: true })
    }

    /** Counts an unknown recipient; slows or cuts off the client when it probes too much. */
    const probed = async (c: Haraka.Connection, verdict: Verdict | undefined): Promise<Verdict | undefined> => {
      if (!harvest) return verdict
      const session = (SESSION_UNKNOWN.get(c) ?? 0) + 1
      SESSION_UNKNOWN.set(c, session)
      // the session's own count if higher: while Redis flaps, a session's probes may be split between Redis and memory
      const count = Math.max(session, await harvest.record(c.remote.ip))
      const { block, delayMs } = harvest.assess(count)
      if (block) return cutOff(c, count)
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
      return verdict
    }

    return {
      hooks: {
        // Both answer synchronously when nothing has to be waited for (a count read
        // moments ago, an address in the directory file): no promise, no deadline timer
        ...(harvest && {
          connect(c: Haraka.Connection) {
            const assess = (count: number) => (harvest.assess(count).block ? cutOff(c, count) : undefined)
            const count = harvest.current(c.remote.ip)
            return typeof count === 'number' ? assess(count) : count.then(assess)
          },
        }),
        rcpt(c, _txn, [rcpt]) {
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
          const answer = (found: Lookup) => {
            if (found !== 'unknown') return undefined
            const verdict = decide(plugin, c, { check: 'recipient', result: 'unknown', detail: address, reply: UNKNOWN }, cfg.main.action)
            // only refused recipients count as probing; a filter on trial must not cut anyone off
            return verdict ? probed(c, verdict) : undefined
          }
          const found = directory.lookup(rcpt.address)
          return typeof found === 'string' ? answer(found) : found.then(answer)
        },
      },
      shutdown: () => redis?.release(),
    }
  },
})
