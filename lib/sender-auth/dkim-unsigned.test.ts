// Unit tests for the "sent unsigned" decision: skip haraka-plugin-dkim only when
// no domain it could sign for has a key folder, never when one has.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { candidateDomains, closeKeyDirIndexes, hasDefaultKey, keyDirFor, keyDomains, unsignedReason } from './dkim-unsigned'

let config: string

beforeEach(() => {
  config = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-dkim-'))
})
afterEach(() => {
  closeKeyDirIndexes()
  fs.rmSync(config, { recursive: true, force: true })
})

const keyFor = (domain: string) => fs.mkdirSync(path.join(config, 'dkim', domain), { recursive: true })
const msg = (from: string[], envelopeDomain = '', sender: string[] = []) => ({ from, sender, envelopeDomain })

describe('keyDirFor', () => {
  it("finds the domain's folder or its closest parent, never a bare TLD", () => {
    keyFor('example.com')
    keyFor('com')
    expect(keyDirFor(config, 'example.com')).toBe(path.join(config, 'dkim', 'example.com'))
    expect(keyDirFor(config, 'News.Example.com')).toBe(path.join(config, 'dkim', 'example.com'))
    expect(keyDirFor(config, 'other.com')).toBeUndefined()
  })

  it('sees a key created after a message found none (the watch of config/dkim/), without a restart', async () => {
    expect(keyDirFor(config, 'new.example')).toBeUndefined()
    keyFor('new.example')
    await vi.waitFor(() => expect(keyDirFor(config, 'new.example')).toBe(path.join(config, 'dkim', 'new.example')), { timeout: 5_000, interval: 10 })
    expect(unsignedReason(config, msg(['a@new.example']))).toBeUndefined()
  })

  it('keeps prototype names as plain folder names', async () => {
    expect(keyDirFor(config, 'constructor.__proto__')).toBeUndefined()
    keyFor('constructor.__proto__')
    await vi.waitFor(() => expect(keyDirFor(config, 'constructor.__proto__')).toBe(path.join(config, 'dkim', 'constructor.__proto__')), { timeout: 5_000, interval: 10 })
  })
})

describe('unsignedReason', () => {
  it('names the domains when none has a key', () => {
    expect(unsignedReason(config, msg(['App <app@example.com>'], 'example.com'))).toBe('no DKIM key for example.com')
    expect(unsignedReason(config, msg(['a@example.com'], 'bounce.example.org'))).toBe('no DKIM key for example.com, bounce.example.org')
  })

  it('lets the plugin sign when any candidate domain has a key (From, Sender or envelope)', () => {
    keyFor('example.org')
    expect(unsignedReason(config, msg(['a@news.example.org']))).toBeUndefined()
    expect(unsignedReason(config, msg(['a@example.com'], 'example.org'))).toBeUndefined()
    expect(unsignedReason(config, msg(['a@example.com, b@example.net'], '', ['s@example.org']))).toBeUndefined()
  })

  it('a bounce without From domain', () => {
    expect(unsignedReason(config, msg([]))).toBe('no sender domain to sign for')
  })

  it('reads an unparseable From through its address-like tokens', () => {
    expect(candidateDomains(msg(['"broken <x@Example.COM'], ''))).toEqual(['example.com'])
  })
})

describe('keyDomains and hasDefaultKey', () => {
  it('lists key folders; a default key needs domain, selector and the key file', () => {
    expect(keyDomains(config)).toEqual([])
    keyFor('b.example')
    keyFor('a.example')
    expect(keyDomains(config)).toEqual(['a.example', 'b.example'])
    fs.writeFileSync(path.join(config, 'dkim.ini'), '[sign]\nenabled=true\ndomain=example.com\nselector=s1\n')
    expect(hasDefaultKey(config)).toBe(false)
    fs.writeFileSync(path.join(config, 'dkim.private.key'), 'PEM')
    expect(hasDefaultKey(config)).toBe(true)
  })
})
