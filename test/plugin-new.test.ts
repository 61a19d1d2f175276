// `gateway plugin new` end to end, as an operator would use it: generate a policy
// check into a deployment root outside the repository, build it with the
// project's compiler settings, run the unit tests it came with, list it, let
// check-config judge its place, then watch it act over SMTP in a real inbound
// instance: a refusal with its reply and enhanced code, and a decision on trial
// (monitor) written into the delivered message. Every trace is removed afterwards.

import fs from 'node:fs'
import path from 'node:path'

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { sendMail, testMessage, TestGateway } from './helpers/gateway'
import { gateway, GeneratedPlugins, sweepStale } from './helpers/generated-plugin'
import { MailSink } from './helpers/mail-sink'
import { addressBlock } from './helpers/net'

const block = addressBlock()
const internal = new MailSink({ host: block.ip(3), port: 2526 })
const gw = new TestGateway({ block, redisUrl: inject('redisUrl'), internalHosts: [internal.address], instances: ['inbound'] })
const generated = new GeneratedPlugins()
// one plugin per hook; the rcpt and mail checks run in the inbound instance below
const RCPT = generated.name('rcpt')
const MAIL = generated.name('mail')
const DATA = generated.name('data')

const pluginsFile = path.join(gw.root, 'inbound', 'config', 'plugins')
const shippedList = fs.readFileSync(pluginsFile, 'utf8')
const withPlugins = (after: string, ...names: string[]) => {
  const lines = shippedList.split('\n')
  const at = lines.indexOf(after)
  if (at < 0) throw new Error(`${after} is not in the shipped inbound plugin list`)
  lines.splice(at + 1, 0, ...names)
  return lines.join('\n')
}
const lineOf = (text: string, name: string) => text.split('\n').indexOf(name) + 1

beforeAll(async () => {
  sweepStale()
  await internal.start()
})
afterAll(async () => {
  let left: string[] = []
  try {
    await gw.stop()
    await internal.stop()
  } finally {
    left = generated.remove()
  }
  expect(left).toEqual([]) // not a file left in plugins/, dist/plugins/ or node_modules/
})

describe('gateway plugin new', () => {
  it('writes the plugin, its unit test and a commented settings file into the deployment, then says what to do next', async () => {
    const r = await gateway(['plugin', 'new', RCPT], gw.root)
    expect(r).toMatchObject({ code: 0, stderr: '' })
    const source = generated.sourceDir(RCPT)
    expect(fs.readdirSync(source).sort()).toEqual(['check.ts', 'index.js', 'package.json', 'plugin.test.ts', 'plugin.ts'])
    expect(JSON.parse(fs.readFileSync(path.join(source, 'package.json'), 'utf8'))).toMatchObject({ name: `haraka-plugin-${RCPT}`, main: 'index.js' })
    // settings go to the deployment root (GATEWAY_ROOT), never into the repository's instances
    const ini = fs.readFileSync(path.join(gw.root, 'inbound', 'config', `${RCPT}.ini`), 'utf8')
    expect(ini).toMatch(/^action=monitor$/m)
    expect(ini).toMatch(/^;addresses\[\]=/m)
    expect(ini.split('\n').filter((l) => /^[a-z]/.test(l))).toEqual(['action=monitor']) // each key follows its comment
    expect(fs.existsSync(path.join(GATEWAY_ROOT, 'inbound', 'config', `${RCPT}.ini`))).toBe(false)
    expect(fs.existsSync(path.join(gw.root, 'outbound', 'config', `${RCPT}.ini`))).toBe(false)
    expect(r.stdout).toContain(`created ${path.join(source, 'plugin.ts')}\n`)
    expect(r.stdout).toContain(`created inbound/config/${RCPT}.ini\n`)
    expect(r.stdout).toContain(`npm install (in ${GATEWAY_ROOT}): links the package as node_modules/haraka-plugin-${RCPT}`)
    expect(r.stdout).toContain(`add the line "${RCPT}" to inbound/config/plugins after gateway-recipients (line ${lineOf(shippedList, 'gateway-recipients')}), before gateway-accepted-domains`)
    expect(r.stdout).toContain(`npm run build && gateway check-config, with GATEWAY_ROOT=${gw.root}`)

    expect(await gateway(['plugin', 'new', MAIL, '--hook', 'mail', '--instance', 'both'], gw.root)).toMatchObject({ code: 0 })
    expect(await gateway(['plugin', 'new', DATA, '--hook=data_post', '--instance=outbound'], gw.root)).toMatchObject({ code: 0 })
    expect(fs.existsSync(path.join(gw.root, 'outbound', 'config', `${MAIL}.ini`))).toBe(true)
    expect(fs.existsSync(path.join(gw.root, 'inbound', 'config', `${DATA}.ini`))).toBe(false)
  })

  it('refuses unsafe or taken names (65) and bad usage (64) with one line, and writes nothing', async () => {
    const taken = path.join(gw.root, 'inbound', 'config', `${RCPT}-taken.ini`)
    fs.writeFileSync(taken, '[main]\n')
    const before = [fs.readdirSync(path.join(GATEWAY_ROOT, 'plugins')), fs.readdirSync(path.join(gw.root, 'inbound', 'config'))]
    const cases: [string[], number, RegExp][] = [
      [['Bad_Name'], 65, /lower-case letters, digits and hyphens/],
      [['-x'], 64, /unknown option "-x"/],
      [['../evil'], 65, /lower-case letters/],
      [['constructor'], 65, /prototype name/],
      [['haraka-plugin-x'], 65, /name it x$/m],
      [['gateway-spool'], 65, /plugins\/gateway-spool already exists/],
      [['tls'], 65, /Haraka already loads a plugin of that name/], // Haraka's own
      [['spf'], 65, /Haraka already loads a plugin of that name .*haraka-plugin-spf/], // an installed npm plugin
      [[RCPT], 65, /already exists/],
      [[`${RCPT}-taken`], 65, /\.ini already exists/],
      [[], 64, /NAME is missing/],
      [['x', '--hook', 'helo'], 64, /unsupported hook "helo"/],
      [['x', '--instance', 'both', 'y'], 64, /unexpected argument "y"/],
      [['x', '--instance', 'edge'], 64, /unknown instance "edge"/],
    ]
    const results = await Promise.all(cases.map(([args]) => gateway(['plugin', 'new', ...args], gw.root)))
    results.forEach((r, i) => {
      const [args, code, why] = cases[i]!
      expect({ args, code: r.code, stdout: r.stdout, lines: r.stderr.trimEnd().split('\n').length }).toEqual({ args, code, stdout: '', lines: 1 })
      expect(r.stderr).toMatch(why)
    })
    expect([fs.readdirSync(path.join(GATEWAY_ROOT, 'plugins')), fs.readdirSync(path.join(gw.root, 'inbound', 'config'))]).toEqual(before)
  })

  it('compiles with the project settings and passes the unit tests it came with', async () => {
    const built = await generated.build([RCPT, MAIL, DATA])
    expect(built.code, built.stdout + built.stderr).toBe(0)
    expect(fs.existsSync(path.join(GATEWAY_ROOT, 'dist', 'plugins', RCPT, 'plugin.js'))).toBe(true)
    const unit = await generated.unitTests([RCPT, MAIL, DATA])
    expect(unit.code, unit.stdout + unit.stderr).toBe(0)
    expect(unit.stdout).toMatch(/Test Files +3 passed \(3\)/)
    expect(unit.stdout).toMatch(/Tests +18 passed \(18\)/)
  })

  it('check-config finds it through the workspace link and holds it to its order rules', async () => {
    for (const name of [RCPT, MAIL, DATA]) generated.link(name)
    // after gateway-accepted-domains, which accepts and so ends the rcpt chain: refused, with line and rule
    const late = withPlugins('gateway-accepted-domains', RCPT)
    fs.writeFileSync(pluginsFile, late)
    const refused = await gateway(['check-config'], gw.root, gw.env('inbound'))
    expect(refused.code).toBe(78)
    // the checker knows the plugin's hooks from its declaration: accepted-domains' own rule catches it first
    expect(refused.stderr).toContain(
      `inbound/config/plugins:${lineOf(late, 'gateway-accepted-domains')}: gateway-accepted-domains: must come after ${RCPT} (line ${lineOf(late, RCPT)}): it ends the rcpt hook`,
    )

    // where `plugin new` said; the mail check after gateway-sender-filter (its declared rule)
    fs.writeFileSync(pluginsFile, withPlugins('gateway-sender-filter', MAIL).replace('gateway-recipients\n', `gateway-recipients\n${RCPT}\n`))
    const ok = await gateway(['check-config'], gw.root, gw.env('inbound'))
    expect(ok.stderr).toBe('')
    expect(ok.stdout).toMatch(new RegExp(`inbound plugins: .*gateway-sender-filter ${MAIL} .*gateway-recipients ${RCPT} gateway-accepted-domains`))
  })

  describe('in a running inbound instance', () => {
    beforeAll(async () => {
      fs.writeFileSync(path.join(gw.root, 'inbound', 'config', `${RCPT}.ini`), '[main]\naction=reject\naddresses[]=blocked@example.com\n')
      fs.writeFileSync(path.join(gw.root, 'inbound', 'config', `${MAIL}.ini`), '[main]\naction=monitor\naddresses[]=*.listed.test\n')
      await gw.start()
    })

    it('refuses a listed recipient with its reply and enhanced code, logs the decision, and accepts the others', async () => {
      const { client } = await gw.connect('inbound')
      await client.ehlo()
      expect((await client.send('MAIL FROM:<someone@sender.test>')).code).toBe(250)
      const refused = await client.send('RCPT TO:<Blocked@Example.com>')
      expect([refused.code, refused.enhanced]).toEqual([550, '5.7.1'])
      expect(refused.text).toContain('Recipient address rejected: Access denied')
      expect((await client.send('RCPT TO:<colleague@example.com>')).code).toBe(250)
      await client.quit()
      await gw.waitForLog('inbound', new RegExp(`\\[${RCPT}\\] decision check=${RCPT} result=listed_recipient action=reject detail="Blocked@Example.com matches blocked@example.com"`))
    })

    it('on trial (monitor) a listed sender passes, and the delivered message carries the decision in X-Gateway-Checks', async () => {
      const { client } = await gw.connect('inbound')
      await client.ehlo()
      const { text, marker } = testMessage({ from: 'news@mail.listed.test', to: 'colleague@example.com' })
      const r = await sendMail(client, { from: 'news@mail.listed.test', to: ['colleague@example.com'] }, text)
      await client.quit()
      expect([r.mail.code, r.end?.code]).toEqual([250, 250])
      await gw.waitForLog('inbound', new RegExp(`decision check=${MAIL} result=listed_sender action=monitor`))
      const [msg] = (await internal.waitFor(1)).filter((m) => m.raw.includes(marker))
      expect(msg!.raw).toMatch(new RegExp(`^X-Gateway-Checks: (.*; )?${MAIL}=listed_sender \\(monitor\\)(;|\\r?$)`, 'm'))
    })
  })
})
