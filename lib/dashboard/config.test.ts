// Unit tests for the [dashboard] settings of config/gateway.ini: loopback by
// default, off, a non-loopback address refused without a token (file and key
// named), and a bad token refused without being repeated.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { ConfigError } from '../config/errors'
import { loadGatewayConfig } from '../config/gateway'

const dirs: string[] = []
function configDir(dashboard: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-dashboard-config-'))
  dirs.push(dir)
  fs.writeFileSync(path.join(dir, 'gateway.ini'), `[internal]\nhosts[]=127.0.0.1:2526\n${dashboard}`)
  fs.writeFileSync(path.join(dir, 'accepted_domains'), 'example.com\n')
  return dir
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
})

describe('[dashboard] settings', () => {
  it('listens on 127.0.0.1:9180 without a token by default; off turns it off', () => {
    expect(loadGatewayConfig(configDir('')).settings.dashboard).toEqual({ listen: { host: '127.0.0.1', port: 9180 }, token: '' })
    expect(loadGatewayConfig(configDir('[dashboard]\nlisten=off\n')).settings.dashboard.listen).toBeNull()
  })

  it('refuses a non-loopback address without a token, naming the file and key', () => {
    const dir = configDir('[dashboard]\nlisten=0.0.0.0:9180\n')
    expect(() => loadGatewayConfig(dir)).toThrow(ConfigError)
    expect(() => loadGatewayConfig(dir)).toThrow(`${path.join(dir, 'gateway.ini')}: [dashboard] listen: 0.0.0.0:9180 is not a loopback address: set [dashboard] token`)
    const withToken = loadGatewayConfig(configDir('[dashboard]\nlisten=0.0.0.0:9180\ntoken=0123456789abcdef-long-enough\n'))
    expect(withToken.settings.dashboard.token).toBe('0123456789abcdef-long-enough')
  })

  it('refuses a short token without repeating it', () => {
    let message = ''
    try {
      loadGatewayConfig(configDir('[dashboard]\ntoken=short-secret\n'))
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/\[dashboard\] token: the value \(12 characters, not shown\) is not 16 to 256/)
    expect(message).not.toContain('short-secret')
  })
})
