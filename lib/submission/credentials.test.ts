// Unit tests for relay credentials: hashPassword, parseUsers/formatUsers and CredentialStore (verify, re-read on change, problems).
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

import { CredentialStore, USER_NAME, formatUsers, hashPassword, parseUsers } from './credentials'

// Well-formed but fake hashes: enough for parsing, never verified against.
const FAKE_A = 'scrypt$16384$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g='
const FAKE_B = 'scrypt$16384$8$1$YW5vdGhlcnNhbHRzYWx0eA==$b3RoZXJoYXNob3RoZXJoYXNob3RoZXJoYXNob3RoZXI='

describe('hashPassword', () => {
  it('produces scrypt$N$r$p$salt$hash with a fresh salt each time', async () => {
    const [a, b] = await Promise.all([hashPassword('pw'), hashPassword('pw')])
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/)
    expect(b).not.toBe(a)
  })
})

describe('parseUsers', () => {
  it('reads name:hash lines, skipping comments and blank lines', () => {
    const { users, errors } = parseUsers(`# header\n\nalice:${FAKE_A}\r\n  bob.smith@example.com:${FAKE_B}  \n`)
    expect(errors).toEqual([])
    expect([...users]).toEqual([
      ['alice', FAKE_A],
      ['bob.smith@example.com', FAKE_B],
    ])
  })

  it('reports malformed lines with their line numbers and ignores them', () => {
    const text = [
      '# comment',
      `alice:${FAKE_A}`,
      'no-colon-here',
      `:${FAKE_A}`,
      `bad name:${FAKE_A}`,
      'carol:plaintext-password',
      'dave:scrypt$16384$8$1$salt!$hash',
      `${'x'.repeat(65)}:${FAKE_A}`,
      `bob:${FAKE_B}`,
    ].join('\n')
    const { users, errors } = parseUsers(text)
    expect([...users.keys()]).toEqual(['alice', 'bob'])
    expect(errors).toEqual([3, 4, 5, 6, 7, 8].map((n) => `line ${n}: not "name:scrypt$..."`))
  })

  it('stores prototype-named users as plain Map entries', () => {
    const { users, errors } = parseUsers(`constructor:${FAKE_A}\n`)
    expect(errors).toEqual([])
    expect(users.get('constructor')).toBe(FAKE_A)
    expect(users.has('toString')).toBe(false)
  })
})

describe('USER_NAME', () => {
  it('allows letters, digits and ._@+- up to 64 characters', () => {
    expect(USER_NAME.test('a.b_c@d+e-f')).toBe(true)
    expect(USER_NAME.test('x'.repeat(64))).toBe(true)
    expect(USER_NAME.test('x'.repeat(65))).toBe(false)
    expect(USER_NAME.test('')).toBe(false)
    expect(USER_NAME.test('a:b')).toBe(false)
    expect(USER_NAME.test('a b')).toBe(false)
  })
})

describe('formatUsers', () => {
  it('writes a header and one sorted line per user, ending with a newline', () => {
    const text = formatUsers(
      new Map([
        ['zed', FAKE_B],
        ['alice', FAKE_A],
      ]),
    )
    const lines = text.split('\n')
    expect(lines[0]).toMatch(/^# Managed by "gateway user add\|remove\|list"/)
    expect(lines.slice(1)).toEqual([`alice:${FAKE_A}`, `zed:${FAKE_B}`, ''])
  })

  it('round-trips through parseUsers', () => {
    const users = new Map([
      ['alice', FAKE_A],
      ['bob', FAKE_B],
    ])
    expect(parseUsers(formatUsers(users))).toEqual({ users, errors: [] })
    expect(parseUsers(formatUsers(new Map()))).toEqual({ users: new Map(), errors: [] })
  })
})

describe('CredentialStore', () => {
  let dir: string
  let file: string
  let aliceHash: string
  let bobHash: string

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credentials-'))
    file = path.join(dir, 'smtp-users')
    ;[aliceHash, bobHash] = await Promise.all([hashPassword('alice-pw'), hashPassword('bob-pw')])
  })

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true })
  })

  /** Writes the user file and moves its mtime forward, so a rewrite is always noticed. */
  let tick = 0
  function writeUsers(text: string): void {
    fs.writeFileSync(file, text)
    tick += 10
    const t = new Date(Date.now() + tick * 1000)
    fs.utimesSync(file, t, t)
  }

  it('never accepts a truncated stored hash (comparing 0 or 3 bytes would accept any password)', async () => {
    const salt = Buffer.alloc(16, 1).toString('base64')
    const onProblem = vi.fn()
    writeUsers(`alice:scrypt$16384$8$1$${salt}$A\nbob:scrypt$16384$8$1$${salt}$AAAA\n`)
    const store = new CredentialStore(file, onProblem)
    expect(await store.verify('alice', 'anything')).toBe(false)
    expect(await store.verify('alice', '')).toBe(false)
    expect(await store.verify('bob', 'anything')).toBe(false)
    expect(onProblem).toHaveBeenCalledTimes(2)
  })

  it('verifies the right password and refuses a wrong one or an unknown user', async () => {
    writeUsers(formatUsers(new Map([['alice', aliceHash]])))
    const onProblem = vi.fn()
    const store = new CredentialStore(file, onProblem)
    expect(await store.verify('alice', 'alice-pw')).toBe(true)
    expect(await store.verify('alice', 'wrong')).toBe(false)
    expect(await store.verify('alice', '')).toBe(false)
    expect(await store.verify('Alice', 'alice-pw')).toBe(false)
    expect(await store.verify('mallory', 'alice-pw')).toBe(false)
    expect(onProblem).not.toHaveBeenCalled()
  })

  it('refuses prototype names (constructor, __proto__, toString) with any password', async () => {
    writeUsers(formatUsers(new Map([['alice', aliceHash]])))
    const store = new CredentialStore(file, () => {})
    for (const name of ['constructor', '__proto__', 'toString']) {
      for (const password of ['', 'alice-pw', 'function Object() { [native code] }']) {
        expect(await store.verify(name, password), `${name} / ${password}`).toBe(false)
      }
    }
  })

  it('re-reads the file when it changes', async () => {
    writeUsers(formatUsers(new Map([['alice', aliceHash]])))
    const store = new CredentialStore(file, () => {})
    expect(await store.verify('bob', 'bob-pw')).toBe(false)

    writeUsers(
      formatUsers(
        new Map([
          ['alice', aliceHash],
          ['bob', bobHash],
        ]),
      ),
    )
    expect(await store.verify('bob', 'bob-pw')).toBe(true)

    // and a removed user is refused again
    writeUsers(formatUsers(new Map([['bob', bobHash]])))
    expect(await store.verify('alice', 'alice-pw')).toBe(false)
    expect(await store.verify('bob', 'bob-pw')).toBe(true)
  })

  it('reports malformed lines through onProblem and still serves the good ones', async () => {
    writeUsers(`# users\nalice:${aliceHash}\ngarbage\nbob:not-a-hash\n`)
    const onProblem = vi.fn()
    const store = new CredentialStore(file, onProblem)
    expect(await store.verify('alice', 'alice-pw')).toBe(true)
    expect(onProblem.mock.calls).toEqual([
      [`${file}: line 3: not "name:scrypt$..." (line ignored)`],
      [`${file}: line 4: not "name:scrypt$..." (line ignored)`],
    ])
    // the same file is not re-reported
    expect(await store.verify('bob', 'not-a-hash')).toBe(false)
    expect(onProblem).toHaveBeenCalledTimes(2)
  })

  it('reports a missing file once and lets nobody in', async () => {
    const missing = path.join(dir, 'does-not-exist')
    const onProblem = vi.fn()
    const store = new CredentialStore(missing, onProblem)
    expect(await store.verify('alice', 'alice-pw')).toBe(false)
    expect(await store.verify('alice', 'alice-pw')).toBe(false)
    expect(onProblem.mock.calls).toEqual([
      ['does-not-exist does not exist: nobody can authenticate (add users with "gateway user add NAME")'],
    ])
  })

  describe('remembering a successful verification (verified_cache_ttl)', () => {
    /** Counts the scrypt computations the store runs. */
    function countScrypt() {
      const spy = vi.spyOn(crypto, 'scrypt')
      return { calls: () => spy.mock.calls.length, restore: () => spy.mockRestore() }
    }

    it('accepts the same password again without scrypt until the time is up; a wrong one always costs scrypt and is refused', async () => {
      writeUsers(formatUsers(new Map([['alice', aliceHash]])))
      let now = 1_000_000
      const store = new CredentialStore(file, () => {}, { verifiedCacheSeconds: 60, now: () => now, changeCheck: { recheckMs: 0 } })
      const scrypt = countScrypt()
      try {
        expect(await store.verify('alice', 'alice-pw')).toBe(true)
        const first = scrypt.calls()
        expect(await store.verify('alice', 'alice-pw')).toBe(true)
        expect(scrypt.calls()).toBe(first) // remembered
        expect(await store.verify('alice', 'alice-pw2')).toBe(false)
        expect(await store.verify('alice', '')).toBe(false)
        expect(scrypt.calls()).toBe(first + 2) // every wrong password fully checked
        expect(await store.verify('alice', 'alice-pw')).toBe(true) // a wrong one in between does not end it
        expect(scrypt.calls()).toBe(first + 2)
        now += 60_001
        expect(await store.verify('alice', 'alice-pw')).toBe(true)
        expect(scrypt.calls()).toBe(first + 3) // expired: checked again
      } finally {
        scrypt.restore()
      }
    })

    it('forgets it when the file changes (gateway user ...): a new password, a removed user', async () => {
      writeUsers(formatUsers(new Map([['alice', aliceHash]])))
      const store = new CredentialStore(file, () => {}, { verifiedCacheSeconds: 60, changeCheck: { recheckMs: 0 } })
      expect(await store.verify('alice', 'alice-pw')).toBe(true)
      writeUsers(formatUsers(new Map([['alice', bobHash]]))) // alice's password is now bob-pw
      expect(await store.verify('alice', 'alice-pw')).toBe(false)
      expect(await store.verify('alice', 'bob-pw')).toBe(true)
      writeUsers(formatUsers(new Map([['bob', bobHash]]))) // alice removed
      expect(await store.verify('alice', 'bob-pw')).toBe(false)
    })

    it('knownValid: true only for the remembered password of a stored user, before it expires or the file changes', async () => {
      writeUsers(formatUsers(new Map([['alice', aliceHash]])))
      let now = 1_000_000
      const store = new CredentialStore(file, () => {}, { verifiedCacheSeconds: 60, now: () => now, changeCheck: { recheckMs: 0 } })
      expect(store.knownValid('alice', 'alice-pw')).toBe(false) // never verified yet
      expect(await store.verify('alice', 'alice-pw')).toBe(true)
      expect(store.knownValid('alice', 'alice-pw')).toBe(true)
      expect(store.knownValid('alice', 'alice-pw ')).toBe(false)
      expect(store.knownValid('bob', 'alice-pw')).toBe(false)
      expect(store.knownValid('__proto__', 'alice-pw')).toBe(false)
      now += 60_001
      expect(store.knownValid('alice', 'alice-pw')).toBe(false)
      expect(await store.verify('alice', 'alice-pw')).toBe(true)
      writeUsers(formatUsers(new Map([['alice', bobHash]])))
      expect(store.knownValid('alice', 'alice-pw')).toBe(false)
      const off = new CredentialStore(file, () => {}, { verifiedCacheSeconds: 0, changeCheck: { recheckMs: 0 } })
      expect(await off.verify('alice', 'bob-pw')).toBe(true)
      expect(off.knownValid('alice', 'bob-pw')).toBe(false)
    })

    it('lead/underWay: sessions with the same password wait for the check under way; other passwords and users do not', async () => {
      writeUsers(formatUsers(new Map([['alice', aliceHash]])))
      const store = new CredentialStore(file, () => {}, { verifiedCacheSeconds: 60, changeCheck: { recheckMs: 0 } })
      let finish: () => void = () => {}
      const gate = new Promise<void>((resolve) => (finish = resolve))
      const run = store.lead('alice', 'alice-pw', async () => {
        await gate
        return store.verify('alice', 'alice-pw')
      })
      const waiting = store.underWay('alice', 'alice-pw')
      expect(waiting).toBeInstanceOf(Promise)
      expect(store.underWay('alice', 'alice-pw2')).toBeUndefined() // a guess is never joined to the check
      expect(store.underWay('bob', 'alice-pw')).toBeUndefined()
      expect(store.underWay('__proto__', 'alice-pw')).toBeUndefined()
      expect(store.underWay('constructor', 'alice-pw')).toBeUndefined()
      // a second attempt with the same password while one leads simply runs (no nesting, no wait)
      expect(await store.lead('alice', 'alice-pw', async () => 'own')).toBe('own')
      expect(store.underWay('alice', 'alice-pw')).toBeInstanceOf(Promise) // still the first one's
      finish()
      await waiting
      expect(await run).toBe(true)
      expect(store.knownValid('alice', 'alice-pw')).toBe(true) // what the waiters then find
      expect(store.underWay('alice', 'alice-pw')).toBeUndefined() // ended
    })

    it('lead/underWay: a failing or throwing check ends the wait and leaves nothing known', async () => {
      writeUsers(formatUsers(new Map([['alice', aliceHash]])))
      const store = new CredentialStore(file, () => {}, { verifiedCacheSeconds: 60, changeCheck: { recheckMs: 0 } })
      const wrong = store.lead('alice', 'guess', () => store.verify('alice', 'guess'))
      const waitWrong = store.underWay('alice', 'guess')
      expect(await wrong).toBe(false)
      await waitWrong
      expect(store.knownValid('alice', 'guess')).toBe(false)
      const thrown = store.lead('alice', 'alice-pw', async () => {
        throw new Error('redis gone')
      })
      const waitThrown = store.underWay('alice', 'alice-pw')
      await expect(thrown).rejects.toThrow('redis gone')
      await expect(waitThrown).resolves.toBeUndefined()
      expect(store.underWay('alice', 'alice-pw')).toBeUndefined()
      // without remembering (0) there is nothing to share: nothing is ever under way
      const off = new CredentialStore(file, () => {}, { verifiedCacheSeconds: 0, changeCheck: { recheckMs: 0 } })
      const offRun = off.lead('alice', 'alice-pw', () => off.verify('alice', 'alice-pw'))
      expect(off.underWay('alice', 'alice-pw')).toBeUndefined()
      expect(await offRun).toBe(true)
    })

    it('is off with 0: every verification runs scrypt', async () => {
      writeUsers(formatUsers(new Map([['alice', aliceHash]])))
      const store = new CredentialStore(file, () => {}, { verifiedCacheSeconds: 0, changeCheck: { recheckMs: 0 } })
      const scrypt = countScrypt()
      try {
        expect(await store.verify('alice', 'alice-pw')).toBe(true)
        expect(await store.verify('alice', 'alice-pw')).toBe(true)
        expect(scrypt.calls()).toBe(2)
      } finally {
        scrypt.restore()
      }
    })
  })
})
