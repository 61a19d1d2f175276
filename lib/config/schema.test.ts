// Unit tests for the typed INI schema: the field parsers and validate() (unknown keys, types, env overrides, defaults, freezing).
import { afterEach, describe, expect, it, vi } from 'vitest'

import { configError } from '../../test/helpers/config-errors'
import { ConfigError } from './errors'
import { parseIni } from './ini'
import { field, validate, type Schema } from './schema'
import { NetworkList } from '../net/address'

const FILE = 'test.ini'

function load<S extends Schema>(text: string, schema: S) {
  return validate(parseIni(text, FILE), FILE, schema)
}


afterEach(() => {
  vi.unstubAllEnvs()
})

describe('field parsers', () => {
  it('string accepts anything unless a pattern is given', () => {
    expect(field.string().parse(' any thing ')).toBe(' any thing ')
    const f = field.string({ pattern: /^[a-z]+$/, patternText: 'lower-case letters' })
    expect(f.parse('abc')).toBe('abc')
    expect(() => f.parse('ABC')).toThrow('"ABC" is not lower-case letters')
    expect(() => field.string({ pattern: /^x$/ }).parse('y')).toThrow('"y" is not valid')
  })

  it('scalar fields refuse a key[]= list', () => {
    expect(() => field.string().parse(['a'])).toThrow('takes one value, not a list (write key=value, not key[]=value)')
    expect(() => field.int().parse(['1'])).toThrow('takes one value, not a list')
  })

  it('int parses whole numbers within min/max', () => {
    const f = field.int({ min: 1, max: 10 })
    expect(f.parse('1')).toBe(1)
    expect(f.parse('10')).toBe(10)
    expect(field.int().parse('-5')).toBe(-5)
    expect(() => f.parse('abc')).toThrow('"abc" is not a whole number')
    expect(() => f.parse('1.5')).toThrow('"1.5" is not a whole number')
    expect(() => f.parse('')).toThrow('"" is not a whole number')
    expect(() => f.parse('0')).toThrow('0 is below the minimum 1')
    expect(() => f.parse('11')).toThrow('11 is above the maximum 10')
  })

  it('bool knows true/yes/1/on and false/no/0/off, case-insensitively', () => {
    const f = field.bool()
    for (const s of ['true', 'YES', '1', 'On']) expect(f.parse(s)).toBe(true)
    for (const s of ['false', 'No', '0', 'OFF']) expect(f.parse(s)).toBe(false)
    expect(() => f.parse('maybe')).toThrow('"maybe" is not true or false')
  })

  it('oneOf accepts only the listed values', () => {
    const f = field.oneOf(['reject', 'tempfail'] as const)
    expect(f.parse('reject')).toBe('reject')
    expect(() => f.parse('Reject')).toThrow('"Reject" is not one of: reject, tempfail')
  })

  it('hostPort uses the default port and reports bad values', () => {
    const f = field.hostPort({ defaultPort: 25 })
    expect(f.parse('mx.example.com')).toEqual({ host: 'mx.example.com', port: 25 })
    expect(f.parse('10.0.0.1:2525')).toEqual({ host: '10.0.0.1', port: 2525 })
    expect(() => f.parse('nope:')).toThrow('"nope:" has an invalid port')
    expect(() => field.hostPort().parse('mx.example.com')).toThrow('has no port')
  })

  it('hostPortList takes key[]= lists or one comma-separated value', () => {
    const f = field.hostPortList({ defaultPort: 25 })
    const expected = [
      { host: 'a.example', port: 25 },
      { host: 'b.example', port: 2525 },
    ]
    expect(f.parse(['a.example', ' b.example:2525 '])).toEqual(expected)
    expect(f.parse('a.example, b.example:2525,')).toEqual(expected)
    expect(f.parse('')).toEqual([])
  })

  it('networks defaults to an empty list and parses CIDRs', () => {
    const f = field.networks()
    const empty = f.fallback!()
    expect(empty).toBeInstanceOf(NetworkList)
    expect(empty.entries).toEqual([])
    const list = f.parse('10.0.0.0/8, 192.168.1.0/24')
    expect(list.contains('10.1.2.3')).toBe(true)
    expect(list.contains('192.168.2.1')).toBe(false)
    expect(() => f.parse('10.0.0.0/99')).toThrow('has an invalid prefix length')
  })

  it('duration reads a number and a unit (s, m, h, d) as seconds, within min/max', () => {
    const f = field.duration({ min: 1, max: 7 * 86_400 })
    expect(f.parse('30s')).toBe(30)
    expect(f.parse('5m')).toBe(300)
    expect(f.parse('72h')).toBe(259_200)
    expect(f.parse('7d')).toBe(604_800)
    expect(f.parse(' 2 h ')).toBe(7200)
    expect(() => f.parse('30')).toThrow('"30" is not a duration (a number and s, m, h or d, e.g. 30d)')
    expect(() => f.parse('1w')).toThrow('is not a duration')
    expect(() => f.parse('-1d')).toThrow('is not a duration')
    expect(() => f.parse('0s')).toThrow('0s is shorter than the minimum 1 s')
    expect(() => f.parse('8d')).toThrow('8d is longer than the maximum 604800 s')
  })

  it('stringList splits, trims and drops empty items', () => {
    expect(field.stringList().parse(' a, ,b ')).toEqual(['a', 'b'])
    expect(field.stringList().parse(['x', ' ', 'y '])).toEqual(['x', 'y'])
  })

  it('a field without default has no fallback (it is required)', () => {
    expect(field.int().fallback).toBeUndefined()
    expect(field.int({ default: 3 }).fallback!()).toBe(3)
    expect(field.int({ env: 'X' }).env).toBe('X')
  })
})

describe('validate', () => {
  const schema = {
    server: {
      port: field.int({ default: 25, min: 1, max: 65535, env: 'SCHEMA_TEST_PORT' }),
      debug: field.bool({ default: false }),
      name: field.string(),
    },
    upstream: {
      host: field.hostPort({ default: { host: 'localhost', port: 25 }, defaultPort: 25, env: 'SCHEMA_TEST_UPSTREAM' }),
    },
  }

  it('reads values from the file and applies defaults', () => {
    const cfg = load('[server]\nname=gw\nport=2525\n', schema)
    expect(cfg.server).toEqual({ port: 2525, debug: false, name: 'gw' })
    expect(cfg.upstream.host).toEqual({ host: 'localhost', port: 25 })
  })

  it('freezes lists too, so a shared default cannot be changed for later loads', () => {
    const listSchema = { s: { hosts: field.hostPortList({ default: [{ host: 'a.test', port: 25 }] }) } }
    const first = load('', listSchema)
    expect(() => (first.s.hosts as { host: string; port: number }[]).push({ host: 'evil.test', port: 25 })).toThrow(TypeError)
    expect(load('', listSchema).s.hosts).toEqual([{ host: 'a.test', port: 25 }])
  })

  it('freezes the result and each section', () => {
    const cfg = load('[server]\nname=gw\n', schema)
    expect(Object.isFrozen(cfg)).toBe(true)
    expect(Object.isFrozen(cfg.server)).toBe(true)
    expect(Object.isFrozen(cfg.upstream)).toBe(true)
    expect(() => {
      ;(cfg.server as { port: number }).port = 1
    }).toThrow(TypeError)
  })

  it('rejects an unknown section, naming file:line and the section', () => {
    const err = configError(() => load('[server]\nname=gw\n[bogus]\nx=1\n', schema))
    expect(err.where).toBe('test.ini:4')
    expect(err.key).toBe('[bogus]')
    expect(err.message).toBe('test.ini:4: [bogus]: unknown section (known: server, upstream)')
  })

  it('rejects keys outside any section when the schema has no "main"', () => {
    const err = configError(() => load('stray=1\n[server]\nname=gw\n', schema))
    expect(err.message).toBe('test.ini:1: [main]: unknown section (known: server, upstream)')
  })

  it('rejects an unknown key, naming file:line and the key', () => {
    const err = configError(() => load('[server]\nname=gw\nprot=25\n', schema))
    expect(err.where).toBe('test.ini:3')
    expect(err.key).toBe('[server] prot')
    expect(err.message).toBe('test.ini:3: [server] prot: unknown key (known: port, debug, name)')
  })

  it('treats prototype names as unknown sections and keys', () => {
    expect(configError(() => load('[__proto__]\nx=1\n', schema)).key).toBe('[__proto__]')
    expect(configError(() => load('[constructor]\nx=1\n', schema)).key).toBe('[constructor]')
    const err = configError(() => load('[server]\nname=gw\nconstructor=1\n', schema))
    expect(err.message).toBe('test.ini:3: [server] constructor: unknown key (known: port, debug, name)')
    expect(configError(() => load('[server]\nname=gw\ntoString=1\n', schema)).key).toBe('[server] toString')
  })

  it('reports a wrong type with file:line, key and problem', () => {
    expect(configError(() => load('[server]\nname=gw\nport=abc\n', schema)).message).toBe(
      'test.ini:3: [server] port: "abc" is not a whole number',
    )
    expect(configError(() => load('[server]\nname=gw\n\ndebug=maybe\n', schema)).message).toBe(
      'test.ini:4: [server] debug: "maybe" is not true or false',
    )
    expect(configError(() => load('[server]\nname=gw\n[upstream]\nhost=nope:\n', schema)).message).toBe(
      'test.ini:4: [upstream] host: "nope:" has an invalid port',
    )
    expect(configError(() => load('[server]\nname=gw\n[upstream]\nhost=a:b:c\n', schema)).message).toBe(
      'test.ini:4: [upstream] host: "a:b:c" is ambiguous: write IPv6 addresses as [addr]:port',
    )
  })

  it('reports a key[]= list given to a scalar key', () => {
    const err = configError(() => load('[server]\nname[]=a\n', schema))
    expect(err.where).toBe('test.ini:2')
    expect(err.key).toBe('[server] name')
    expect(err.problem).toMatch(/^takes one value, not a list/)
  })

  it('reports a missing required key', () => {
    const err = configError(() => load('[server]\nport=25\n', schema))
    expect(err.where).toBe('test.ini')
    expect(err.key).toBe('[server] name')
    expect(err.message).toBe('test.ini: [server] name: is required')
  })

  it('names the environment variable in the "required" message of a key that has one', () => {
    const s = { a: { b: field.string({ env: 'SCHEMA_TEST_REQUIRED' }) } }
    vi.stubEnv('SCHEMA_TEST_REQUIRED', undefined)
    expect(configError(() => load('', s)).message).toBe('test.ini: [a] b: is required (or set SCHEMA_TEST_REQUIRED)')
  })

  it('lets the environment override the file', () => {
    vi.stubEnv('SCHEMA_TEST_PORT', '587')
    vi.stubEnv('SCHEMA_TEST_UPSTREAM', '[::1]:26')
    const cfg = load('[server]\nname=gw\nport=2525\n[upstream]\nhost=mx.example:25\n', schema)
    expect(cfg.server.port).toBe(587)
    expect(cfg.upstream.host).toEqual({ host: '::1', port: 26 })
  })

  it('lets the environment override a default and satisfy a required key', () => {
    vi.stubEnv('SCHEMA_TEST_PORT', '26')
    expect(load('[server]\nname=gw\n', schema).server.port).toBe(26)
    const s = { a: { b: field.string({ env: 'SCHEMA_TEST_REQUIRED' }) } }
    vi.stubEnv('SCHEMA_TEST_REQUIRED', 'from-env')
    expect(load('', s).a.b).toBe('from-env')
  })

  it('ignores an empty environment variable', () => {
    vi.stubEnv('SCHEMA_TEST_PORT', '')
    expect(load('[server]\nname=gw\nport=2525\n', schema).server.port).toBe(2525)
  })

  it('reports an invalid environment value naming the variable, not the file', () => {
    vi.stubEnv('SCHEMA_TEST_PORT', 'abc')
    const err = configError(() => load('[server]\nname=gw\nport=2525\n', schema))
    expect(err.where).toBe('environment variable SCHEMA_TEST_PORT')
    expect(err.key).toBe('')
    expect(err.message).toBe('environment variable SCHEMA_TEST_PORT: "abc" is not a whole number')
  })

  it('checks min/max on environment values too', () => {
    vi.stubEnv('SCHEMA_TEST_PORT', '70000')
    expect(configError(() => load('[server]\nname=gw\n', schema)).message).toBe(
      'environment variable SCHEMA_TEST_PORT: 70000 is above the maximum 65535',
    )
  })

  it('accepts an empty file when everything has a default', () => {
    const s = { a: { n: field.int({ default: 1 }), l: field.stringList({ default: [] }) } }
    expect(load('', s)).toEqual({ a: { n: 1, l: [] } })
  })
})
