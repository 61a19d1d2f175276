// Unit tests for the order checker: the rules plugins declare (after, before,
// endsChain, first; per instance), on made-up lists and on the shipped plugins'
// own declarations, inbound and outbound.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { GATEWAY_ROOT, type InstanceName } from '../config/paths'
import { listPlugins, pluginName } from './catalog'
import { declarationOf, type PluginDeclaration } from './declaration'
import { checkOrder, orderProblems, type ListedPlugin, type OrderRules } from './order'

import acceptedDomains from '../../plugins/gateway-accepted-domains/plugin'
import antivirus from '../../plugins/gateway-antivirus/plugin'
import bounce from '../../plugins/gateway-bounce/plugin'
import clientNetworks from '../../plugins/gateway-client-networks/plugin'
import content from '../../plugins/gateway-content/plugin'
import core from '../../plugins/gateway-core/plugin'
import dmarc from '../../plugins/gateway-dmarc/plugin'
import headerFirewall from '../../plugins/gateway-header-firewall/plugin'
import outboundScrub from '../../plugins/gateway-outbound-scrub/plugin'
import queue from '../../plugins/gateway-queue/plugin'
import recipientLimit from '../../plugins/gateway-recipient-limit/plugin'
import recipients from '../../plugins/gateway-recipients/plugin'
import refuseAuth from '../../plugins/gateway-refuse-auth/plugin'
import routing from '../../plugins/gateway-routing/plugin'
import senderFilter from '../../plugins/gateway-sender-filter/plugin'
import spam from '../../plugins/gateway-spam/plugin'
import spool from '../../plugins/gateway-spool/plugin'
import stats from '../../plugins/gateway-stats/plugin'
import submissionAuth from '../../plugins/gateway-submission-auth/plugin'
import tcpNodelay from '../../plugins/gateway-tcp-nodelay/plugin'
import tlsPolicy from '../../plugins/gateway-tls-policy/plugin'

type Rule = Pick<ListedPlugin, 'name' | 'hooks' | 'order'>

/** A plugins list, one line each, in the order given. */
const list = (...plugins: (string | Rule)[]): ListedPlugin[] => plugins.map((p, i) => ({ ...(typeof p === 'string' ? { name: p } : p), line: i + 1 }))
const problems = (l: ListedPlugin[], instance: InstanceName = 'inbound') => orderProblems(l, instance).map((p) => `${p.line}: ${p.name}: ${p.problem}`)
const rule = (name: string, order: OrderRules, hooks: ListedPlugin['hooks'] = []): Rule => ({ name, order, hooks })

describe('orderProblems', () => {
  it('after / before: only when both are listed, naming both lines and the reason', () => {
    const a = rule('a', { after: { b: 'it reads what b records' } })
    expect(problems(list('b', a))).toEqual([])
    expect(problems(list(a))).toEqual([]) // b not listed: nothing to order
    expect(problems(list(a, 'x', 'b'))).toEqual(['1: a: must come after b (line 3): it reads what b records'])
    const c = rule('c', { before: { d: 'd signs what c wrote' } })
    expect(problems(list('d', c))).toEqual(['2: c: must come before d (line 1): d signs what c wrote'])
  })

  it('endsChain: every plugin using that hook must come before; plugins whose hooks are unknown are not judged', () => {
    const ender = rule('ender', { endsChain: ['rcpt'] }, ['rcpt'])
    const checker: Rule = { name: 'checker', hooks: ['rcpt', 'mail'] }
    const other: Rule = { name: 'other', hooks: ['mail'] }
    expect(problems(list(checker, ender, other, 'stock'))).toEqual([])
    expect(problems(list(ender, other, checker))).toEqual(['1: ender: must come after checker (line 3): it ends the rcpt hook, so the rcpt hook of checker would never run'])
  })

  it('first: no plugin using the hook may come before', () => {
    const firewall = rule('firewall', { first: { data_post: 'forged headers go first' } }, ['data_post'])
    expect(problems(list({ name: 'early', hooks: ['mail'] }, firewall, { name: 'scan', hooks: ['data_post'] }))).toEqual([])
    expect(problems(list({ name: 'scan', hooks: ['data_post'] }, firewall))).toEqual(['2: firewall: must be the first data_post plugin, before scan (line 1): forged headers go first'])
  })

  it('rules under an instance name hold in that instance only', () => {
    const spooler = rule('spooler', { outbound: { before: { signer: 'sign what was queued' } } })
    expect(problems(list('signer', spooler), 'inbound')).toEqual([])
    expect(problems(list('signer', spooler), 'outbound')).toEqual(['2: spooler: must come before signer (line 1): sign what was queued'])
  })

  it('checkOrder throws the first problem as one ConfigError line', () => {
    const a = rule('a', { after: { b: 'why' } })
    expect(() => checkOrder(list(a, 'b'), 'inbound', 'inbound/config/plugins')).toThrow('inbound/config/plugins:1: a: must come after b (line 2): why')
  })
})

// --- the shipped plugins' declarations -------------------------------------------

const DECLARATIONS = new Map<string, PluginDeclaration>(
  [acceptedDomains, antivirus, bounce, clientNetworks, content, core, dmarc, headerFirewall, outboundScrub, queue, recipientLimit, recipients, refuseAuth, routing, senderFilter, spam, spool, stats, submissionAuth, tcpNodelay, tlsPolicy].map((p) => {
    const d = declarationOf(p)!
    return [d.name, d]
  }),
)

/** A list as a plugins file holds it, with the declarations the shipped plugins make. */
function shippedList(names: string[]): ListedPlugin[] {
  return names.map((name, i) => {
    const d = DECLARATIONS.get(name)
    return { name, line: i + 1, hooks: d?.hooks, order: d?.order }
  })
}

function shipped(instance: InstanceName): string[] {
  const text = fs.readFileSync(path.join(GATEWAY_ROOT, instance, 'config', 'plugins'), 'utf8')
  return text.split('\n').map((l) => pluginName(l.replace(/#.*$/, '').trim())).filter(Boolean)
}

/** `names` with `moved` taken out and put right before `anchor`. */
function moveBefore(names: string[], moved: string, anchor: string): string[] {
  const rest = names.filter((n) => n !== moved)
  rest.splice(rest.indexOf(anchor), 0, moved)
  return rest
}

describe('the shipped order', () => {
  it.each(['inbound', 'outbound'] as const)('%s/config/plugins breaks no declared rule', (instance) => {
    expect(problems(shippedList(shipped(instance)), instance)).toEqual([])
  })

  it('inbound: gateway-accepted-domains before gateway-recipients is refused (recipient validation would be skipped)', () => {
    const names = moveBefore(shipped('inbound'), 'gateway-accepted-domains', 'gateway-recipients')
    expect(problems(shippedList(names))[0]).toMatch(
      /^\d+: gateway-accepted-domains: must come after gateway-recipients \(line \d+\): it ends the rcpt hook, so the rcpt hook of gateway-recipients would never run$/,
    )
  })

  it('inbound: gateway-header-firewall after another data_post plugin is refused', () => {
    const names = moveBefore(shipped('inbound'), 'gateway-header-firewall', 'gateway-content')
    expect(problems(shippedList(names))[0]).toMatch(/^\d+: gateway-header-firewall: must be the first data_post plugin, before gateway-dmarc \(line \d+\): forged gateway headers are removed/)
  })

  it('inbound: gateway-dmarc before spf or dkim is refused', () => {
    expect(problems(shippedList(moveBefore(shipped('inbound'), 'gateway-dmarc', 'spf')))).toEqual([
      expect.stringMatching(/: gateway-dmarc: must come after spf \(line \d+\): it acts on the SPF result/),
      expect.stringMatching(/: gateway-dmarc: must come after dkim \(line \d+\): it acts on the signatures/),
    ])
  })

  it('outbound: scrub after the spool, dkim before the spool or the scrub, are refused', () => {
    const out = shipped('outbound')
    expect(problems(shippedList(moveBefore(out, 'gateway-spool', 'gateway-outbound-scrub')), 'outbound')).toEqual([
      expect.stringMatching(/: gateway-spool: must come after gateway-outbound-scrub \(line \d+\): it ends the queue_outbound hook/),
    ])
    expect(problems(shippedList(moveBefore(out, 'dkim', 'gateway-spool')), 'outbound')).toEqual([expect.stringMatching(/: gateway-spool: must come before dkim \(line \d+\)/)])
    expect(problems(shippedList(moveBefore(out, 'dkim', 'gateway-outbound-scrub')), 'outbound')).toEqual([
      expect.stringMatching(/: gateway-outbound-scrub: must come before dkim \(line \d+\): haraka-plugin-dkim must sign the header as scrubbed/),
      expect.stringMatching(/: gateway-spool: must come before dkim/),
    ])
  })

  it('gateway-queue (get_mx) after gateway-routing is refused: routing answers get_mx', () => {
    expect(problems(shippedList(moveBefore(shipped('outbound'), 'gateway-routing', 'gateway-queue')), 'outbound')).toEqual([
      expect.stringMatching(/: gateway-routing: must come after gateway-queue \(line \d+\): it ends the get_mx hook/),
    ])
  })
})

describe('listPlugins (the catalog check-config and startup read)', () => {
  it('finds every shipped plugin and reads the declarations of the gateway plugins only', () => {
    const { entries } = listPlugins(path.join(GATEWAY_ROOT, 'inbound'))
    expect(entries.every((e) => e.location)).toBe(true)
    const declared = entries.filter((e) => e.declaration).map((e) => e.name)
    expect(declared).toEqual(entries.map((e) => e.name).filter((n) => n.startsWith('gateway-')))
    expect(entries.find((e) => e.name === 'gateway-recipients')?.hooks).toEqual(['connect', 'rcpt'])
    expect(entries.find((e) => e.name === 'dkim')?.hooks).toBeUndefined()
  })
})

describe('listPlugins with team plugins in <instance>/plugins/', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-test-'))
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  const define = JSON.stringify(path.join(GATEWAY_ROOT, 'dist', 'lib', 'plugin', 'define.js'))
  const plugin = (name: string, code: string) => {
    fs.mkdirSync(path.join(dir, 'plugins', name), { recursive: true })
    fs.writeFileSync(path.join(dir, 'plugins', name, 'package.json'), `{ "name": "${name}", "main": "index.js" }`)
    fs.writeFileSync(path.join(dir, 'plugins', name, 'index.js'), code)
  }
  fs.mkdirSync(path.join(dir, 'config'), { recursive: true })
  plugin('team-check', `module.exports = require(${define}).definePlugin({ name: 'team-check', instances: ['inbound'], hooks: ['rcpt'], setup: () => ({ hooks: {} }) })`)
  plugin('team-broken', `throw new Error('boom at load')`)
  fs.writeFileSync(path.join(dir, 'plugins', 'team-plain.js'), 'exports.hook_rcpt = (next) => next()')

  it('reads the declaration of a package plugin there; a plain .js plugin is found, not loaded', () => {
    fs.writeFileSync(path.join(dir, 'config', 'plugins'), 'team-check\nteam-plain\n')
    const { entries } = listPlugins(dir)
    expect(entries.map((e) => [e.name, e.location?.kind, e.hooks])).toEqual([
      ['team-check', 'package', ['rcpt']],
      ['team-plain', 'file', undefined],
    ])
  })

  it('a plugin module that cannot be loaded is one line naming the plugins file line', () => {
    fs.writeFileSync(path.join(dir, 'config', 'plugins'), '# team\nteam-broken\n')
    expect(() => listPlugins(dir)).toThrow(/config\/plugins:2: team-broken: cannot be loaded: boom at load$/)
  })
})
