// The files `gateway plugin new` writes: a working policy check built on the
// plugin contract (definePlugin, a Finding through decide(), the operator's
// action from its .ini), with its unit test and its commented settings file.
// Generated from code rather than copied from a template folder: the three
// hooks read different things (recipient, envelope sender, From header) and
// declare different order rules, and a folder of placeholder files could be
// neither compiled nor tested as it stands. test/plugin-new.test.ts generates,
// compiles (with the project's tsc settings) and runs every file below.

import type { InstanceName } from '../lib/config/paths'

export const PLUGIN_HOOKS = ['rcpt', 'mail', 'data_post'] as const
export type PluginHook = (typeof PLUGIN_HOOKS)[number]

export interface PluginSpec {
  /** Plugin name, also the check's name (validated by plugin-new.ts). */
  readonly name: string
  readonly instances: readonly InstanceName[]
  readonly hook: PluginHook
}

/** What each hook's check reads, and how its finding is named and answered. */
interface Variant {
  /** "listed recipient": the thing the check reports, in words. */
  readonly what: string
  /** Where that address comes from, for comments. */
  readonly source: string
  readonly result: string
  readonly replyText: string
}

const VARIANTS: Record<PluginHook, Variant> = {
  rcpt: { what: 'listed recipient', source: 'the recipient (RCPT TO)', result: 'listed_recipient', replyText: 'Recipient address rejected: Access denied' },
  mail: { what: 'listed sender', source: 'the envelope sender (MAIL FROM)', result: 'listed_sender', replyText: 'Sender address rejected: Access denied' },
  data_post: { what: 'listed author', source: 'an author (an address in the From header)', result: 'listed_author', replyText: 'Message rejected: Access denied' },
}

/** Plugin-relative path -> content, for plugins/<name>/. */
export function pluginFiles(spec: PluginSpec): Record<string, string> {
  return {
    'package.json': packageJson(spec),
    'index.js': indexJs(spec),
    'plugin.ts': pluginTs(spec),
    'check.ts': checkTs(spec),
    'plugin.test.ts': unitTest(spec),
  }
}

function packageJson({ name, hook }: PluginSpec): string {
  const pkg = {
    name: `haraka-plugin-${name}`,
    version: '0.0.0',
    private: true,
    description: `Policy check: ${VARIANTS[hook].what} (made by gateway plugin new)`,
    main: 'index.js',
  }
  return `${JSON.stringify(pkg, null, 2)}\n`
}

function indexJs({ name }: PluginSpec): string {
  return `// Haraka loads this package; the TypeScript source is plugin.ts, compiled by \`npm run build\`.
module.exports = require('../../dist/plugins/${name}/plugin.js')
`
}

/** The order rules the check depends on, as source lines of the `order` declaration. */
function orderRules({ hook, instances }: PluginSpec): string[] {
  const after: [string, string][] = []
  const before: [string, string][] = []
  if (instances.includes('outbound') && hook !== 'data_post') {
    after.push(['gateway-submission-auth', 'clients that did not log in are refused before a decision is spent on them'])
  }
  if (hook === 'mail' && instances.includes('inbound')) {
    after.push(['gateway-sender-filter', 'the shipped sender policy (blocked senders, our own domains from outside) answers first'])
  }
  if (hook === 'data_post' && instances.includes('inbound')) {
    after.push(['gateway-header-firewall', 'it reads the header only after forged X-Gateway-* fields are removed'])
  }
  if (hook === 'rcpt') before.push(['gateway-accepted-domains', 'it accepts the recipient and ends the rcpt chain: a check listed after it never runs'])
  const block = (kind: string, rules: [string, string][]) =>
    rules.length === 0 ? [] : [`${kind}: {`, ...rules.map(([plugin, why]) => `  '${plugin}': '${why}',`), '},']
  const lines = [...block('after', after), ...block('before', before)]
  return lines.length > 0 ? lines : ["// none needed here; e.g. after: { 'other-plugin': 'why it must come after it' }"]
}

function hookCode({ hook }: PluginSpec): string {
  switch (hook) {
    case 'rcpt':
      return `        rcpt(c, _txn, [recipient]) {
          const finding = findListed(recipient.address, addresses)
          return finding ? decide(plugin, c, finding, action) : undefined // undefined: the next plugin decides
        },`
    case 'mail':
      return `        mail(c, _txn, [sender]) {
          const finding = findListed(sender.address, addresses) // the null sender <> matches nothing
          return finding ? decide(plugin, c, finding, action) : undefined // undefined: the next plugin decides
        },`
    case 'data_post':
      return `        data_post(c, txn) {
          // every From address as mail clients read it, also from fields that do not parse
          for (const author of authorCandidates(txn.header.header_list)) {
            const finding = findListed(author, addresses)
            if (finding) return decide(plugin, c, finding, action)
          }
          return undefined // the next plugin decides
        },`
  }
}

function pluginTs(spec: PluginSpec): string {
  const { name, hook, instances } = spec
  const v = VARIANTS[hook]
  const order = orderRules(spec)
  const imports = [
    `import { field } from '../../lib/config/schema'`,
    `import { definePlugin } from '../../lib/plugin/define'`,
    `import { actionField, decide } from '../../lib/policy/actions'`,
    ...(hook === 'data_post' ? [`import { authorCandidates } from '../../lib/address/authors'`] : []),
    `import { SenderPatterns } from '../../lib/address/patterns'`,
    `import { findListed } from './check'`,
  ]
  return `// ${name} (${instances.join(' and ')}): a policy check at ${hook}. It reports a
// Finding when ${v.source} is on the list in ${name}.ini;
// the action configured there decides what happens (decide(): reject, tempfail,
// quarantine, tag, accept or monitor, each logged, recorded, counted and written
// into X-Gateway-Checks). Detection is in check.ts, the unit test in
// plugin.test.ts. Made by \`gateway plugin new\`: replace the check with your own.

${imports.join('\n')}

// The settings in <instance>/config/${name}.ini, validated at startup and by
// \`gateway check-config\` (an unknown key or a bad value names file and line).
const schema = {
  main: {
    /** What a finding does; monitor (record only) lets a new check run on trial. */
    action: actionField('monitor'),
    /** Addresses, domains or *.domains to report; none turns the check off. */
    addresses: field.listOf((entries) => new SenderPatterns(entries)),
  },
}

// Per-message state, should the check need some (e.g. something seen at MAIL,
// used at data_post): declare it once, typed, and never touch notes directly:
//   const SEEN = transactionState<string>('${name.replace(/-/g, '_')}_seen')   // lib/plugin/state.ts
//   SEEN.set(txn, value) ... SEEN.get(txn)

export = definePlugin({
  name: '${name}',
  instances: [${instances.map((i) => `'${i}'`).join(', ')}], // anywhere else: startup stops (exit 78) naming the plugins-file line
  hooks: ['${hook}'], // every hook setup() may return
  config: schema,
  // Checked against <instance>/config/plugins at startup and by \`gateway check-config\`.
  order: {
${order.map((r) => `    ${r}`).join('\n')}
  },
  setup({ plugin, config }) {
    const { action, addresses } = config.main
    if (addresses.size === 0) return { hooks: {} } // off: no hook registered, nothing to go wrong

    return {
      hooks: {
${hookCode(spec)}
      },
    }
  },
})
`
}

function checkTs({ name, hook }: PluginSpec): string {
  const v = VARIANTS[hook]
  return `// ${name}: what the check finds, apart from what is done about it: a pure
// function of ${v.source} and the configured list, unit-tested
// without Haraka. What happens to a finding is the operator's action (decide()).

import type { Finding } from '../../lib/policy/actions'
import type { SenderPatterns } from '../../lib/address/patterns'
import { reply } from '../../lib/smtp/reply'

/** The check's name in the log (decision check=...), the counters and X-Gateway-Checks. */
export const CHECK = '${name}'

// The answer when the action is reject (tempfail: 451 4.7.1 with the same text).
// Generic on purpose: why goes to the log (Finding.detail), never to the client.
const REFUSED = reply(550, '5.7.1', '${v.replyText}')

/** A Finding when \`address\` matches a listed address, domain or *.domain; undefined otherwise. */
export function findListed(address: string, listed: SenderPatterns): Finding | undefined {
  const entry = listed.match(address)
  if (entry === undefined) return undefined
  return { check: CHECK, result: '${v.result}', detail: \`\${address} matches \${entry}\`, reply: REFUSED, tag: '${v.what}' }
}
`
}

// The name goes into regular expressions unescaped: it is [a-z0-9-] only (plugin-new.ts).
function unitTest({ name, hook }: PluginSpec): string {
  const v = VARIANTS[hook]
  const run = {
    rcpt: `  const txn = fakeTransaction(c, { from: 'someone@sender.test', to: [address] })
  return { answer: await h.run('rcpt', c, [txn.rcpt_to[0], {}]), c, txn }`,
    mail: `  const txn = fakeTransaction(c, { from: address })
  return { answer: await h.run('mail', c, [txn.mail_from, {}]), c, txn }`,
    data_post: `  const txn = fakeTransaction(c, { from: 'bounces@sender.test', to: ['someone@example.com'], headers: [\`From: "Someone" <\${address}>\`] })
  return { answer: await h.run('data_post', c), c, txn }`,
  }[hook]
  return `// Unit test of ${name}, in milliseconds and without Haraka: the harness
// (lib/plugin/testing.ts) loads the plugin through the real adapter (settings
// validated as at startup), calls its ${hook} hook as Haraka does and returns
// what the client is answered; decisions are recorded as in production.

import { describe, expect, it } from 'vitest'

import { fakeConnection, fakeTransaction, pluginHarness, type Harness } from '../../lib/plugin/testing'
import { decisionsOf } from '../../lib/policy/marks'
import plugin from './plugin'

const LISTED = '[main]\\naddresses[]=blocked@example.net\\naddresses[]=*.blocked.test\\n'

/** One message through the ${hook} hook with \`address\` where the check looks. */
async function check(h: Harness, address: string) {
  const c = fakeConnection()
${run}
}

describe('${name}', () => {
  it('registers no hook while no address is listed (the default)', () => {
    expect(pluginHarness(plugin).hooks).toEqual([])
  })

  it('action=reject: answers 550 5.7.1 to a listed address and logs the decision', async () => {
    const h = pluginHarness(plugin, { ini: \`\${LISTED}action=reject\\n\` })
    const { answer, c } = await check(h, 'blocked@example.net')
    expect(answer).toEqual({ result: 'DENY', reply: '550 5.7.1 ${v.replyText}' })
    expect(c.log).toEqual(['NOTICE [${name}] decision check=${name} result=${v.result} action=reject detail="blocked@example.net matches blocked@example.net"'])
  })

  it('action=tempfail: answers 451 4.7.1, the client tries again later', async () => {
    const h = pluginHarness(plugin, { ini: \`\${LISTED}action=tempfail\\n\` })
    expect((await check(h, 'someone@mail.blocked.test')).answer).toEqual({ result: 'DENYSOFT', reply: '451 4.7.1 ${v.replyText}' })
  })

  it('lets an address that is not listed through, with no decision', async () => {
    const h = pluginHarness(plugin, { ini: \`\${LISTED}action=reject\\n\` })
    const { answer, c } = await check(h, 'someone@blocked.test') // *.blocked.test: subdomains only
    expect(answer).toEqual({ result: 'CONT' })
    expect(c.log).toEqual([])
  })

  it('action=monitor (the default): lets it through and records the decision for X-Gateway-Checks', async () => {
    const h = pluginHarness(plugin, { ini: LISTED })
    const { answer, c, txn } = await check(h, 'someone@mail.blocked.test')
    expect(answer).toEqual({ result: 'CONT' })
    expect(decisionsOf(c)).toEqual([{ check: '${name}', result: '${v.result}', action: 'monitor', tag: '${v.what}' }])
    expect(txn.results.get('${name}')).toEqual({ msg: ['${v.result}:monitor'] })
  })

  it('refuses a bad setting with file, line and key', () => {
    expect(() => pluginHarness(plugin, { ini: '[main]\\naddresses[]=not an address\\n' })).toThrow(/${name}\\.ini:2: \\[main\\] addresses: "not an address" is not an address/)
    expect(() => pluginHarness(plugin, { ini: '[main]\\naction=drop\\n' })).toThrow(/${name}\\.ini:2: \\[main\\] action: "drop" is not one of/)
  })
})
`
}

/** <instance>/config/<name>.ini: every key commented, the defaults shown. */
export function settingsFile({ name, hook }: PluginSpec): string {
  const v = VARIANTS[hook]
  return `; ${name}: policy check at ${hook} (plugins/${name}/). Validated at startup and
; by \`gateway check-config\`: an unknown key or a bad value stops the instance
; with this file's name and line. Every key may be left out (its default applies).
[main]
; What happens when ${v.source} is listed below:
;   reject      refuse it: 550 5.7.1 ${v.replyText}
;   tempfail    451 4.7.1, the client tries again later
;   quarantine  accept the message but hold it (gateway quarantine list)
;   tag         deliver it with an X-Gateway-Tag header (and the [tag] subject prefix of gateway-spool.ini)
;   accept      record the decision and let the message continue through the other checks
;   monitor     record only, change nothing: run a new check this way first (default)
; Every decision is logged ("decision check=${name} result=${v.result} action=..."),
; counted (gateway stats) and written into the delivered message's X-Gateway-Checks header.
action=monitor
; What to report, one per line: an address (user@example.net), a domain
; (example.net: exactly that domain) or *.example.net (its subdomains, not itself).
; None (the default): the check is off and registers no hook.
;addresses[]=user@example.net
;addresses[]=*.example.net
`
}
