// DKIM signing on the outbound instance, end to end: `gateway dkim keygen` writes
// the key where the outbound instance reads it and prints the DNS record; a message
// relayed by outbound reaches a remote MX (found by MX lookup) signed; exactly the
// bytes that MX received, fed into a real inbound instance whose DNS serves the
// printed record, verify as dkim=pass (and DMARC pass). A domain without a key is
// sent unsigned, never refused.

import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../lib/config/paths'
import { delivered, outboundWithPartnerMx } from './helpers/fixtures'
import { sendMail } from './helpers/gateway'
import { addUser, fieldValues, outboundPlugins, relayOne } from './helpers/outbound-relay'

const AUTHSERV = 'mx.receiver.test'
const PASSWORD = 'correct horse battery'
const SELECTOR = 'sel2026'

// The shipped dkim.ini, also signing X-Internal-Route, a header the scrub removes:
// signed before the scrub, the signature would name a field that is gone and fail.
const shippedDkimIni = fs.readFileSync(path.join(GATEWAY_ROOT, 'outbound', 'config', 'dkim.ini'), 'utf8')
const dkimIni = shippedDkimIni.replace(/^headers=(.*)$/m, 'headers=$1, X-Internal-Route')
if (dkimIni === shippedDkimIni) throw new Error('outbound/config/dkim.ini: no headers= line')

let keygen: ReturnType<typeof dkimCli>

const { internal, remoteMx, dns, gw } = outboundWithPartnerMx({
  instances: ['inbound', 'outbound'],
  acceptedDomains: ['example.com', 'example.net'],
  files: {
    'outbound/config/plugins': outboundPlugins({ scrub: true, dkim: true, nodelay: true }),
    'outbound/config/dkim.ini': dkimIni,
    'outbound/config/gateway-outbound-scrub.ini': '[main]\nstrip_prefix[]=X-Internal-\n',
    'outbound/config/gateway-submission-auth.ini': '[main]\nfailure_delay_ms=0\n',
    // the receiving side: the inbound instance with DKIM verification and DMARC
    'inbound/config/me': `${AUTHSERV}\n`,
    'inbound/config/plugins': ['gateway-core', 'tls', 'gateway-stats', 'gateway-refuse-auth', 'gateway-accepted-domains', 'spf', 'dkim', 'gateway-dmarc', 'gateway-spool', 'gateway-routing', ''].join('\n'),
  },
  prepare: ({ gw, dns }) => {
    fs.rmSync(path.join(gw.root, 'outbound', 'config', 'dkim'), { recursive: true, force: true }) // keys of a developer's checkout are not copied in
    keygen = dkimCli('keygen', 'example.com', '--selector', SELECTOR)
    if (keygen.code === 0) {
      const { name, value } = parseRecord(keygen.stdout)
      dns.add(name, { type: 'TXT', data: value })
    }
    addUser(gw, 'app@example.com', PASSWORD)
    addUser(gw, 'app@example.net', PASSWORD)
  },
})
dns.add('_dmarc.example.com', { type: 'TXT', data: 'v=DMARC1; p=reject' })

/** `gateway dkim ...` as an operator runs it, on the test's deployment root. */
function dkimCli(...args: string[]) {
  const r = spawnSync(process.execPath, ['-e', "require('./dist/cli/dkim.js').dkimCommand(process.argv.slice(1)).then((c) => process.exit(c))", ...args], {
    cwd: GATEWAY_ROOT,
    env: { ...process.env, GATEWAY_ROOT: gw.root },
    encoding: 'utf8',
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The name and the joined value of a printed `name IN TXT "..." "..."` record. */
function parseRecord(line: string): { name: string; value: string } {
  const m = /^(\S+) IN TXT ((?:"[^"]*" ?)+)$/.exec(line.trim())
  if (!m) throw new Error(`not a TXT record line: ${line}`)
  return { name: m[1]!, value: [...m[2]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('') }
}

describe('gateway dkim keygen', () => {
  const keyDir = () => path.join(gw.root, 'outbound', 'config', 'dkim', 'example.com')

  it('writes the key where the outbound instance reads it (under GATEWAY_ROOT) and prints the TXT record', () => {
    expect(keygen.code, keygen.stderr).toBe(0)
    const lines = keygen.stdout.trim().split('\n')
    expect(lines).toHaveLength(1) // only the record on stdout
    expect(lines[0]).toMatch(/^sel2026\._domainkey\.example\.com IN TXT "v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+" "[A-Za-z0-9+/=]+"$/)
    expect([...lines[0]!.matchAll(/"([^"]*)"/g)].every((m) => m[1]!.length <= 255)).toBe(true)
    expect(fs.readFileSync(path.join(keyDir(), 'selector'), 'utf8').trim()).toBe(SELECTOR)
    expect(fs.readFileSync(path.join(keyDir(), 'private'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/)
    expect(fs.statSync(path.join(keyDir(), 'private')).mode & 0o077).toBe(0) // no access for group or others
    expect(keygen.stderr).toContain('outbound/config/dkim/example.com/private')
  })

  it('refuses to replace an existing key without --force, and `show` prints the published record again', () => {
    const before = fs.readFileSync(path.join(keyDir(), 'private'), 'utf8')
    const again = dkimCli('keygen', 'example.com')
    expect(again.code).toBe(73)
    expect(again.stdout).toBe('')
    expect(again.stderr).toMatch(/already exists .*--force/)
    expect(fs.readFileSync(path.join(keyDir(), 'private'), 'utf8')).toBe(before)
    const show = dkimCli('show', 'example.com')
    expect([show.code, show.stdout]).toEqual([0, keygen.stdout])
  })

  it('replaces a key with --force (new selector), and refuses bad input with a usage or data error', () => {
    expect(dkimCli('keygen', 'rotate.test', '--selector', 'old', '--bits', '1024').code).toBe(0)
    const rotated = dkimCli('keygen', 'rotate.test', '--selector', 'new', '--bits', '1024', '--force')
    expect(rotated.code, rotated.stderr).toBe(0)
    expect(parseRecord(rotated.stdout).name).toBe('new._domainkey.rotate.test')
    expect(dkimCli('show', 'rotate.test').stdout).toBe(rotated.stdout)
    expect(dkimCli('keygen', '../../etc').code).toBe(65)
    expect(dkimCli('keygen', 'example.org', '--bits', '512').code).toBe(65)
    expect(dkimCli('keygen').code).toBe(64)
    expect(fs.existsSync(path.join(gw.root, 'outbound', 'config', 'dkim', 'example.org'))).toBe(false)
  })
})

describe('DKIM signing (outbound) verified by a real receiver (inbound)', () => {
  it('signs relayed mail with the From domain key; the bytes the remote MX got verify as dkim=pass and dmarc=pass', async () => {
    const body = ['Dear partner,', '.a line that starts with a dot', 'trailing blanks   ', '', 'Regards', '', ''].join('\r\n')
    const sent = await relayOne(gw, {
      user: 'app@example.com',
      password: PASSWORD,
      from: 'app@example.com',
      to: ['someone@partner.test'],
      headers: ['X-Internal-Route: core-7', 'Cc: <other@partner.test>'],
      body,
    })
    expect([sent.end?.code, sent.end?.enhanced]).toEqual([250, '2.0.0'])

    const atMx = await delivered(remoteMx, sent.marker)
    const sigs = fieldValues(atMx.raw, 'DKIM-Signature')
    expect(sigs).toHaveLength(1)
    expect(sigs[0]).toMatch(/\bd=example\.com;/)
    expect(sigs[0]).toMatch(/\bs=sel2026;/)
    const signed = /\bh=([^;]+);/.exec(sigs[0]!)![1]!.toLowerCase().split(':')
    expect(signed).toEqual(expect.arrayContaining(['from', 'to', 'cc', 'subject', 'date', 'message-id']))
    expect(signed).not.toContain('x-internal-route') // signed after the scrub removed it
    expect(fieldValues(atMx.raw, 'X-Internal-Route')).toEqual([])

    // exactly those bytes, to a real receiver that looks the key up in DNS
    const { client } = await gw.connect('inbound')
    await client.ehlo('mx.example.com')
    const fed = await sendMail(client, { from: 'app@example.com', to: ['user@example.com'] }, atMx.raw)
    await client.quit()
    expect([fed.end?.code, fed.end?.enhanced]).toEqual([250, '2.0.0'])
    const received = await delivered(internal, sent.marker)
    const ar = fieldValues(received.raw, 'Authentication-Results')
    expect(ar).toHaveLength(1)
    expect(ar[0]).toMatch(/dkim=pass header\.i=@example\.com header\.d=example\.com header\.s=sel2026/)
    expect(ar[0]).toContain('dmarc=pass')
    expect(dns.queries).toContain('TXT sel2026._domainkey.example.com')

    // the same bytes with a signed header changed no longer verify: DMARC p=reject refuses them
    const { client: c2 } = await gw.connect('inbound')
    await c2.ehlo('mx.example.com')
    const tampered = atMx.raw.replace(/^Subject: .*$/m, 'Subject: changed on the way')
    const refused = await sendMail(c2, { from: 'app@example.com', to: ['user@example.com'] }, tampered)
    await c2.quit()
    expect([refused.end?.code, refused.end?.enhanced]).toEqual([550, '5.7.1'])
  })

  it('sends mail from a domain without a key unsigned, not refused, and says so at INFO (not an ERROR per message)', async () => {
    const sent = await relayOne(gw, { user: 'app@example.net', password: PASSWORD, from: 'app@example.net', to: ['someone@partner.test'] })
    expect([sent.end?.code, sent.end?.enhanced]).toEqual([250, '2.0.0'])
    const atMx = await delivered(remoteMx, sent.marker)
    expect(fieldValues(atMx.raw, 'DKIM-Signature')).toEqual([])
    expect(atMx.raw).toContain(`Message-ID: <${sent.marker}@test.invalid>`)
    expect(gw.log('outbound')).toMatch(/\[INFO\] .*\[gateway-outbound-scrub\] \S+ sent unsigned: no DKIM key for example\.net/)
    expect(gw.log('outbound')).not.toMatch(/\[ERROR\].*\[dkim\]/)
  })
})
