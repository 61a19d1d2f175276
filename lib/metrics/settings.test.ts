// Unit test of gateway-metrics.ini: off, loopback without a token, and a
// non-loopback address that requires one (a ConfigError naming file, line and key).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { ConfigError } from '../config/errors'
import { isLoopback, loadMetricsSettings, TOKEN_ENV } from './settings'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-settings-'))
const file = (text: string) => {
  const f = path.join(dir, `gateway-metrics-${Math.random()}.ini`)
  fs.writeFileSync(f, text)
  return f
}

afterEach(() => {
  delete process.env[TOKEN_ENV]
})

describe('gateway-metrics.ini', () => {
  it('is off without a file, with listen=off, and with an empty listen', () => {
    expect(loadMetricsSettings(path.join(dir, 'missing.ini'))).toEqual({ listen: null, token: undefined })
    expect(loadMetricsSettings(file('[http]\nlisten=off\n')).listen).toBeNull()
    expect(loadMetricsSettings(file('[http]\nlisten=\n')).listen).toBeNull()
  })

  it('listens on loopback without a token', () => {
    expect(loadMetricsSettings(file('[http]\nlisten=127.0.0.1:9125\n'))).toEqual({ listen: { host: '127.0.0.1', port: 9125 }, token: undefined })
    expect(loadMetricsSettings(file('[http]\nlisten=[::1]:9125\n')).listen).toEqual({ host: '::1', port: 9125 })
  })

  it('refuses a non-loopback address without a token, naming the file, line and key', () => {
    const f = file('; metrics\n[http]\nlisten=0.0.0.0:9125\n')
    let err: unknown
    try {
      loadMetricsSettings(f)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toMatch(new RegExp(`${path.basename(f).replace(/\./g, '\\.')}:3: \\[http\\] listen: 0\\.0\\.0\\.0 is not a loopback address: set \\[http\\] token`))
  })

  it('accepts a non-loopback address with a token (from the file or the environment)', () => {
    expect(loadMetricsSettings(file('[http]\nlisten=10.1.2.3:9125\ntoken=0123456789abcdef\n')).token).toBe('0123456789abcdef')
    process.env[TOKEN_ENV] = 'from-the-environment-1'
    expect(loadMetricsSettings(file('[http]\nlisten=10.1.2.3:9125\n')).token).toBe('from-the-environment-1')
  })

  it('refuses short tokens, tokens with spaces, unknown keys and bad addresses', () => {
    expect(() => loadMetricsSettings(file('[http]\nlisten=10.1.2.3:9125\ntoken=short\n'))).toThrow(/:3: \[http\] token: .*at least 16/)
    expect(() => loadMetricsSettings(file('[http]\ntoken=has spaces in the token\n'))).toThrow(ConfigError)
    expect(() => loadMetricsSettings(file('[http]\nport=9125\n'))).toThrow(/unknown key/)
    expect(() => loadMetricsSettings(file('[http]\nlisten=9125\n'))).toThrow(/\[http\] listen/)
  })

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.9.8.7', '::1', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true)
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.com', '128.0.0.1']) expect(isLoopback(h), h).toBe(false)
  })
})
