// Unit tests for the sender-scopes file: parsing, broken lines (no rights, never the
// default), formatting, and ScopeStore (defaults, re-reading on change).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, describe, expect, it, vi } from 'vitest'

import { formatScopes, parseScopes, ScopeStore } from './scope-file'

describe('parseScopes', () => {
  it('reads "NAME scope, scope" lines, skipping comments and blank lines', () => {
    const { scopes, broken, errors } = parseScopes('# scopes\n\nexchange  example.com, *.example.com <>\r\napp@example.com\tapp@example.com\n')
    expect(errors).toEqual([])
    expect(broken.size).toBe(0)
    expect([...scopes]).toEqual([
      ['exchange', ['example.com', '*.example.com', '<>']],
      ['app@example.com', ['app@example.com']],
    ])
  })

  it('marks users with a broken, empty or repeated line as broken, with line numbers', () => {
    const { scopes, broken, errors } = parseScopes('good example.com\nempty\nbad alerts@\ntwice a@example.com\ntwice b@example.com\nbad name example.com\n')
    expect([...scopes.keys()]).toEqual(['good'])
    expect([...broken]).toEqual(['empty', 'bad', 'twice'])
    expect(errors).toEqual([
      'line 2: no scope given for empty (empty may send as nobody until this is fixed)',
      'line 3: "alerts@" is not an address, a domain, *.domain, <> or * (bad may send as nobody until this is fixed)',
      'line 5: twice appears twice (twice may send as nobody until this is fixed)',
      'line 6: bad appears twice (bad may send as nobody until this is fixed)',
    ])
  })

  it('reports names that cannot be users', () => {
    expect(parseScopes('a:b example.com\n').errors).toEqual(['line 1: "a:b" is not a user name'])
  })

  it('round-trips through formatScopes, sorted, as plain Map entries', () => {
    const scopes = new Map([
      ['zed', ['zed@example.com']],
      ['constructor', ['example.com', '<>']],
    ])
    const text = formatScopes(scopes)
    expect(text.split('\n').filter((l) => !l.startsWith('#'))).toEqual(['constructor  example.com, <>', 'zed  zed@example.com', ''])
    expect(parseScopes(text).scopes).toEqual(new Map([...scopes].sort()))
  })
})

describe('ScopeStore', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scopes-'))
  const file = path.join(dir, 'sender-scopes')
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  let tick = 0
  const write = (text: string) => {
    fs.writeFileSync(file, text)
    tick += 10
    const t = new Date(Date.now() + tick * 1000)
    fs.utimesSync(file, t, t)
  }

  it('gives the default scope without a file, the configured one with it, and re-reads changes', () => {
    const onProblem = vi.fn()
    const store = new ScopeStore(file, ['example.com'], onProblem, { recheckMs: 0 })
    expect(store.scopeOf('relay').source).toBe('default')
    expect(store.scopeOf('relay').scope.allows('x@example.com')).toBe(true)
    expect(store.scopeOf('app@example.com').scope.allows('x@example.com')).toBe(false)

    write('relay news@example.com\n')
    expect(store.scopeOf('relay').source).toBe('configured')
    expect(store.scopeOf('relay').scope.allows('x@example.com')).toBe(false)
    expect(store.scopeOf('relay').scope.allows('news@example.com')).toBe(true)

    write('relay news@\n')
    const broken = store.scopeOf('relay')
    expect(broken.source).toBe('broken')
    expect(broken.scope.allows('x@example.com')).toBe(false)
    expect(onProblem).toHaveBeenCalledWith(`${file}: line 1: "news@" is not an address, a domain, *.domain, <> or * (relay may send as nobody until this is fixed)`)
    expect(store.scopeOf('constructor').source).toBe('default')

    fs.rmSync(file)
    expect(store.scopeOf('relay').source).toBe('default')
  })

  it('fails closed when the file exists but cannot be read: no rights, not the default', () => {
    const unreadable = path.join(dir, 'unreadable-scopes')
    fs.mkdirSync(unreadable) // reading a directory fails (EISDIR) even as root, like a file we may not read
    const onProblem = vi.fn()
    const store = new ScopeStore(unreadable, ['example.com'], onProblem, { recheckMs: 0 })
    const { scope, source } = store.scopeOf('relay')
    expect(source).toBe('broken')
    expect(scope.allows('anyone@example.com')).toBe(false)
    expect(onProblem).toHaveBeenCalledWith(expect.stringMatching(/cannot read .*nobody may send until it is readable/))
  })
})
