// Unit tests for the strict INI reader: parseIni, readIni and readList.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { configError } from '../../test/helpers/config-errors'
import { ConfigError } from './errors'
import { parseIni, readIni, readList } from './ini'


describe('parseIni', () => {
  it('puts keys before any section into "main"', () => {
    const ini = parseIni('a=1\nb = two words \n', 'test.ini')
    expect([...ini.keys()]).toEqual(['main'])
    expect(ini.get('main')!.get('a')).toEqual({ value: '1', line: 1 })
    expect(ini.get('main')!.get('b')).toEqual({ value: 'two words', line: 2 })
  })

  it('always has an empty "main" section, even for empty text', () => {
    const ini = parseIni('', 'test.ini')
    expect([...ini.keys()]).toEqual(['main'])
    expect(ini.get('main')!.size).toBe(0)
  })

  it('reads sections and records the line of each key', () => {
    const ini = parseIni('[redis]\nurl=redis://x:1\n\n[ dns ]\nservers=1.1.1.1\n', 'test.ini')
    expect(ini.get('redis')!.get('url')).toEqual({ value: 'redis://x:1', line: 2 })
    // whitespace inside the brackets is trimmed
    expect(ini.get('dns')!.get('servers')).toEqual({ value: '1.1.1.1', line: 5 })
  })

  it('collects key[]= lines into an array, keeping the first line number', () => {
    const ini = parseIni('[internal]\nhosts[]=a:25\nhosts[]=b:25\nhosts[]=c:25\n', 'test.ini')
    expect(ini.get('internal')!.get('hosts')).toEqual({ value: ['a:25', 'b:25', 'c:25'], line: 2 })
  })

  it('treats an empty key[]= as an empty list', () => {
    const ini = parseIni('[internal]\nhosts[]=\n', 'test.ini')
    expect(ini.get('internal')!.get('hosts')).toEqual({ value: [], line: 2 })
  })

  it('keeps an empty key= as the empty string', () => {
    const ini = parseIni('key=\n', 'test.ini')
    expect(ini.get('main')!.get('key')).toEqual({ value: '', line: 1 })
  })

  it('skips ; and # comments and blank lines', () => {
    const ini = parseIni('; a comment\n# another\n   \n  ; indented\n[s]\n# x=1\nk=v\n', 'test.ini')
    expect(ini.get('s')!.size).toBe(1)
    expect(ini.get('s')!.get('k')).toEqual({ value: 'v', line: 7 })
  })

  it('counts lines the same for \\n, \\r\\n and \\r line ends', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const ini = parseIni(['[s]', 'a=1', '', 'b=2'].join(eol), 'test.ini')
      expect(ini.get('s')!.get('b')).toEqual({ value: '2', line: 4 })
    }
  })

  it('keeps "=" characters after the first one in the value', () => {
    const ini = parseIni('url=redis://h:1/?a=b\n', 'test.ini')
    expect(ini.get('main')!.get('url')!.value).toBe('redis://h:1/?a=b')
  })

  it('rejects a key set twice, naming both lines', () => {
    const err = configError(() => parseIni('[s]\nk=1\n\nk=2\n', 'test.ini'))
    expect(err.where).toBe('test.ini:4')
    expect(err.key).toBe('[s] k')
    expect(err.message).toBe('test.ini:4: [s] k: set twice (first on line 2)')
  })

  it('rejects a section that appears twice', () => {
    const err = configError(() => parseIni('[s]\na=1\n[t]\n[s]\nb=2\n', 'test.ini'))
    expect(err.message).toBe('test.ini:4: [s]: section appears twice')
  })

  it('rejects key[]= after key=', () => {
    const err = configError(() => parseIni('[s]\nk=1\nk[]=2\n', 'test.ini'))
    expect(err.message).toBe('test.ini:3: [s] k: mixes key= and key[]=')
  })

  it('rejects key= after key[]= (with the line of the second one)', () => {
    const err = configError(() => parseIni('[s]\nk[]=1\nk=2\n', 'test.ini'))
    expect(err.message).toBe('test.ini:3: [s] k: mixes key= and key[]=')
  })

  it('rejects a line that is neither a section, a key=value nor a comment', () => {
    const err = configError(() => parseIni('[s]\na=1\nthis is not ini\n', 'test.ini'))
    expect(err.where).toBe('test.ini:3')
    expect(err.key).toBe('')
    expect(err.message).toBe('test.ini:3: cannot parse "this is not ini" (expected key=value)')
  })

  it('rejects an unterminated section header', () => {
    const err = configError(() => parseIni('[redis\nurl=x\n', 'test.ini'))
    expect(err.where).toBe('test.ini:1')
  })

  it('stores prototype names as plain Map entries without touching Object.prototype', () => {
    const text = '[__proto__]\nconstructor=1\ntoString=2\n__proto__=3\npolluted=yes\n[constructor]\nhasOwnProperty[]=x\n'
    const ini = parseIni(text, 'test.ini')
    expect([...ini.keys()]).toEqual(['main', '__proto__', 'constructor'])
    const proto = ini.get('__proto__')!
    expect(proto).toBeInstanceOf(Map)
    expect(proto.get('constructor')).toEqual({ value: '1', line: 2 })
    expect(proto.get('toString')).toEqual({ value: '2', line: 3 })
    expect(proto.get('__proto__')).toEqual({ value: '3', line: 4 })
    expect(ini.get('constructor')!.get('hasOwnProperty')).toEqual({ value: ['x'], line: 7 })
    // nothing leaked onto Object.prototype
    expect(Object.hasOwn(Object.prototype, 'polluted')).toBe(false)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(({} as Record<string, unknown>).constructor).toBe(Object)
    expect(typeof ({} as Record<string, unknown>).toString).toBe('function')
    expect(typeof Object.prototype.hasOwnProperty).toBe('function')
  })

  it('does not find absent prototype names', () => {
    const ini = parseIni('[s]\na=1\n', 'test.ini')
    expect(ini.has('constructor')).toBe(false)
    expect(ini.has('__proto__')).toBe(false)
    expect(ini.get('s')!.has('toString')).toBe(false)
  })
})

describe('readIni and readList', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ini-test-'))
  })
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('readIni parses a file from disk', () => {
    const file = path.join(dir, 'gateway.ini')
    fs.writeFileSync(file, '[redis]\nprefix=abc\n')
    expect(readIni(file).get('redis')!.get('prefix')).toEqual({ value: 'abc', line: 2 })
  })

  it('readIni of a missing file is an empty configuration', () => {
    const ini = readIni(path.join(dir, 'missing.ini'))
    expect([...ini.keys()]).toEqual(['main'])
    expect(ini.get('main')!.size).toBe(0)
  })

  it('readIni names the file in parse errors', () => {
    const file = path.join(dir, 'bad.ini')
    fs.writeFileSync(file, 'oops\n')
    const err = configError(() => readIni(file))
    expect(err.message).toContain('bad.ini:1')
  })

  it('readIni of something unreadable (a directory) is a ConfigError', () => {
    const err = configError(() => readIni(dir))
    expect(err.problem).toMatch(/^cannot read: /)
  })

  it('readList returns non-empty lines with their numbers, without # comments', () => {
    const file = path.join(dir, 'accepted_domains')
    fs.writeFileSync(file, '# header\nexample.com\n\n  example.org  # trailing comment\r\n#x\nexample.net')
    expect(readList(file)).toEqual([
      { value: 'example.com', line: 2 },
      { value: 'example.org', line: 4 },
      { value: 'example.net', line: 6 },
    ])
  })

  it('readList of a missing file is an empty list', () => {
    expect(readList(path.join(dir, 'nope'))).toEqual([])
  })

  it('readList of something unreadable (a directory) is a ConfigError', () => {
    const err = configError(() => readList(dir))
    expect(err.problem).toMatch(/^cannot read: /)
  })
})
