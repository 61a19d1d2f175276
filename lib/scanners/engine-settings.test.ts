// Unit tests for the scanner engine keys: environment over file over default, strict errors naming the variable or file:line.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, afterEach, describe, expect, it } from 'vitest'

import { ConfigError } from '../config/errors'
import { readSpamEngineSettings, readVirusEngineSettings } from './engine-settings'

const VARS = ['GATEWAY_RSPAMD_SERVER', 'GATEWAY_SPAM_ON_ERROR', 'GATEWAY_CLAMD_SERVER', 'GATEWAY_VIRUS_ON_ERROR'] as const
const saved = new Map(VARS.map((v) => [v, process.env[v]]))
afterEach(() => {
  for (const [v, value] of saved) {
    if (value === undefined) delete process.env[v]
    else process.env[v] = value
  }
})
for (const v of VARS) delete process.env[v]
const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

function instance(files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-engine-settings-'))
  dirs.push(dir)
  fs.mkdirSync(path.join(dir, 'config'))
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'config', name), text)
  return dir
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err
    throw err
  }
  throw new Error('did not throw')
}

describe('engine settings', () => {
  it('defaults without a file: rspamd on 127.0.0.1:11333, clamd on Debian\'s socket, on_error=tempfail', () => {
    const dir = instance()
    expect(readSpamEngineSettings(dir)).toEqual({ server: { host: '127.0.0.1', port: 11333 }, serverText: '127.0.0.1:11333', serverFromEnv: false, onError: 'tempfail', onErrorExplicit: false })
    expect(readVirusEngineSettings(dir)).toMatchObject({ server: { path: '/run/clamav/clamd.ctl' }, serverText: '/run/clamav/clamd.ctl', onError: 'tempfail' })
  })

  it('reads [main] server and on_error from the file and leaves every other key to the plugin', () => {
    const dir = instance({
      'gateway-spam.ini': '[main]\nserver=10.0.0.5:11400\ntimeout_ms=whatever\non_error=accept\n[scl]\nreject=9\n',
      'gateway-antivirus.ini': '[main]\nserver=clamd.internal\naction=reject\n',
    })
    expect(readSpamEngineSettings(dir)).toMatchObject({ serverText: '10.0.0.5:11400', serverFromEnv: false, onError: 'accept' })
    expect(readVirusEngineSettings(dir)).toMatchObject({ server: { host: 'clamd.internal', port: 3310 }, onError: 'tempfail' })
  })

  it('lets the environment variables win over the file, and says so', () => {
    const dir = instance({ 'gateway-spam.ini': '[main]\nserver=10.0.0.5:11400\non_error=tempfail\n', 'gateway-antivirus.ini': '[main]\non_error=tempfail\n' })
    process.env.GATEWAY_RSPAMD_SERVER = '127.0.0.1:40000'
    process.env.GATEWAY_SPAM_ON_ERROR = 'accept'
    process.env.GATEWAY_CLAMD_SERVER = '/tmp/clamd.sock'
    process.env.GATEWAY_VIRUS_ON_ERROR = 'accept'
    expect(readSpamEngineSettings(dir)).toEqual({ server: { host: '127.0.0.1', port: 40000 }, serverText: '127.0.0.1:40000', serverFromEnv: true, onError: 'accept', onErrorExplicit: true })
    expect(readVirusEngineSettings(dir)).toMatchObject({ server: { path: '/tmp/clamd.sock' }, serverFromEnv: true, onError: 'accept', onErrorExplicit: true })
  })

  it('an empty variable counts as unset', () => {
    process.env.GATEWAY_SPAM_ON_ERROR = ''
    expect(readSpamEngineSettings(instance())).toMatchObject({ onError: 'tempfail', onErrorExplicit: false })
  })

  it('an on_error line in the file is the operator\'s choice too: the launcher must not override it', () => {
    expect(readSpamEngineSettings(instance({ 'gateway-spam.ini': 'on_error=tempfail\n' }))).toMatchObject({ onError: 'tempfail', onErrorExplicit: true })
  })

  it('refuses a bad variable, naming it', () => {
    process.env.GATEWAY_VIRUS_ON_ERROR = 'ignore'
    expect(configError(() => readVirusEngineSettings(instance())).message).toBe('environment variable GATEWAY_VIRUS_ON_ERROR: "ignore" is not one of: tempfail, accept')
    process.env.GATEWAY_RSPAMD_SERVER = 'host:port'
    expect(configError(() => readSpamEngineSettings(instance())).where).toBe('environment variable GATEWAY_RSPAMD_SERVER')
  })

  it('refuses a bad file value, naming file, line and key', () => {
    const dir = instance({ 'gateway-antivirus.ini': '; clamd\n[main]\nserver=relative/clamd.sock\n' })
    const err = configError(() => readVirusEngineSettings(dir))
    expect(err.where).toMatch(/gateway-antivirus\.ini:3$/)
    expect(err.key).toBe('[main] server')
    expect(err.problem).toMatch(/host:port or the absolute path/)
  })
})
