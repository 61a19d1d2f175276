// Unit tests: DKIM key generation, the DNS TXT record, and the key files haraka-plugin-dkim reads.

import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, describe, expect, it } from 'vitest'

import { checkDomain, checkSelector, defaultSelector, generateKey, KeyExistsError, keyFiles, publicKeyOf, readKey, txtRecord, writeKey } from './dkim-keys'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dkim-keys-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('names', () => {
  it('accepts domains with two or more labels, lower-cased, nothing that could leave the key folder', () => {
    expect(checkDomain('Mail.Example.COM.')).toBe('mail.example.com')
    for (const bad of ['example', '../example.com', 'example.com/x', 'exa mple.com', '-x.example.com', 'constructor', '__proto__.com', '']) {
      expect(() => checkDomain(bad), bad).toThrow(/is not a domain name/)
    }
  })

  it('accepts selectors of one or more DNS labels', () => {
    expect(checkSelector('gw202611')).toBe('gw202611')
    expect(checkSelector('s1.eu')).toBe('s1.eu')
    for (const bad of ['', 'a_b', '-a', 'a/b', 'a..b']) expect(() => checkSelector(bad), bad).toThrow(/not a valid selector/)
  })

  it('defaults to a selector per month', () => {
    expect(defaultSelector(new Date(Date.UTC(2026, 10, 27)))).toBe('gw202611')
  })
})

describe('txtRecord', () => {
  it('prints the record in strings of at most 255 characters that join to the key', () => {
    const key = generateKey(2048)
    const line = txtRecord('gw202611', 'example.com', key.publicKeyBase64)
    const m = /^gw202611\._domainkey\.example\.com IN TXT ((?:"[^"]*" ?)+)$/.exec(line)
    expect(m).not.toBeNull()
    const strings = [...m![1]!.matchAll(/"([^"]*)"/g)].map((x) => x[1]!)
    expect(strings.length).toBeGreaterThan(1)
    expect(strings.every((s) => s.length <= 255)).toBe(true)
    const value = strings.join('')
    expect(value.startsWith('v=DKIM1; k=rsa; p=')).toBe(true)
    // the published key verifies what the private key signs
    const publicKey = crypto.createPublicKey({ key: Buffer.from(value.slice('v=DKIM1; k=rsa; p='.length), 'base64'), format: 'der', type: 'spki' })
    const sig = crypto.sign('sha256', Buffer.from('x'), key.privateKeyPem)
    expect(crypto.verify('sha256', Buffer.from('x'), publicKey, sig)).toBe(true)
    expect(publicKeyOf(key.privateKeyPem)).toBe(key.publicKeyBase64)
  })

  it('refuses key sizes below 1024 bits or unusual ones', () => {
    expect(() => generateKey(512)).toThrow(/not supported/)
    expect(() => generateKey(2000)).toThrow(/not supported/)
  })
})

describe('writeKey / readKey', () => {
  it('writes private (owner-only) and selector where haraka-plugin-dkim reads them, and never replaces a key unless forced', () => {
    const files = keyFiles(path.join(tmp, 'outbound'), 'example.com')
    expect(files.privateFile).toBe(path.join(tmp, 'outbound', 'config', 'dkim', 'example.com', 'private'))
    expect(readKey(files)).toBeUndefined()
    const first = generateKey(1024)
    writeKey(files, first, 'one', false)
    expect(fs.statSync(files.privateFile).mode & 0o777).toBe(0o600)
    expect(fs.readFileSync(files.selectorFile, 'utf8')).toBe('one\n')
    expect(readKey(files)).toEqual({ selector: 'one', publicKeyBase64: first.publicKeyBase64 })

    const second = generateKey(1024)
    expect(() => writeKey(files, second, 'two', false)).toThrow(KeyExistsError)
    expect(readKey(files)?.publicKeyBase64).toBe(first.publicKeyBase64)
    writeKey(files, second, 'two', true)
    expect(readKey(files)).toEqual({ selector: 'two', publicKeyBase64: second.publicKeyBase64 })
    expect(fs.readdirSync(files.dir).sort()).toEqual(['private', 'selector'])
  })
})
