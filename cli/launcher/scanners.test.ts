// Unit tests for the engine decision of `gateway start`: configured server, private engine, or OFF with mail marked unscanned.
// The plans here stand in for rspamd and clamd; test/launcher.test.ts runs the real ones.
import { afterEach, describe, expect, it } from 'vitest'

import { ensureEngine, type EnginePlan } from './scanners'
import type { EngineSettings } from '../../lib/scanners/engine-settings'

afterEach(() => {
  delete process.env.RSPAMD_BIN
})

function plan(over: Partial<Omit<EnginePlan, 'settings'>> & { settings?: Partial<EngineSettings<unknown>> } = {}): EnginePlan & { privateStarts: number } {
  const p = {
    engine: 'rspamd' as const,
    scanning: 'spam scanning',
    plugin: 'gateway-spam',
    enabled: true,
    serverEnv: 'GATEWAY_RSPAMD_SERVER',
    onErrorEnv: 'GATEWAY_SPAM_ON_ERROR',
    engineEnv: 'GATEWAY_SPAM_ENGINE',
    unscannedHeader: 'X-Gateway-Spam',
    install: 'apt-get install rspamd',
    binaryEnv: 'RSPAMD_BIN',
    slowStart: 'it compiles its rules',
    answers: async () => false,
    binary: () => undefined as string | undefined,
    privateStarts: 0,
    async startPrivate() {
      p.privateStarts++
      return { address: '127.0.0.1:40001', note: 'local rules only', stop: async () => {} }
    },
    ...over,
    settings: { server: null, serverText: '127.0.0.1:11333', serverFromEnv: false, onError: 'tempfail' as const, onErrorExplicit: false, ...over.settings },
  }
  return p
}

const opts = { privateDir: '/srv/gw/var/rspamd', log: () => {} }

describe('ensureEngine', () => {
  it('starts nothing for a plugin that is not loaded', async () => {
    const p = plan({ enabled: false, answers: async () => true })
    const h = await ensureEngine(p, opts)
    expect(h).toMatchObject({ mode: 'disabled', env: {}, line: 'spam scanning: not enabled (gateway-spam is not in inbound/config/plugins)' })
  })

  it('uses the configured server when it answers, overriding nothing', async () => {
    const p = plan({ answers: async () => true, binary: () => '/usr/bin/rspamd' })
    const h = await ensureEngine(p, opts)
    expect(h).toMatchObject({ mode: 'system', env: {}, line: 'spam scanning: 127.0.0.1:11333 (system rspamd)' })
    expect(p.privateStarts).toBe(0)
  })

  it('starts a private engine when none answers, and hands its address to the instance', async () => {
    const p = plan({ binary: () => '/usr/bin/rspamd' })
    const h = await ensureEngine(p, opts)
    expect(h).toMatchObject({
      mode: 'private',
      env: { GATEWAY_RSPAMD_SERVER: '127.0.0.1:40001' },
      line: 'spam scanning: 127.0.0.1:40001 (private rspamd, data in /srv/gw/var/rspamd; local rules only)',
    })
  })

  it('never replaces a server the operator named in the environment', async () => {
    const p = plan({ binary: () => '/usr/bin/rspamd', settings: { serverText: '10.0.0.5:11333', serverFromEnv: true } })
    const h = await ensureEngine(p, opts)
    expect(h).toMatchObject({ mode: 'unreachable', env: {} })
    expect(h.line).toBe('spam scanning: 10.0.0.5:11333 (GATEWAY_RSPAMD_SERVER) is NOT answering; until it does, mail is refused with 451 (on_error=tempfail: senders retry later)')
    expect(p.privateStarts).toBe(0)
  })

  it('not installed: OFF (told to the plugin), and on_error=accept so mail flows marked unscanned', async () => {
    const h = await ensureEngine(plan(), opts)
    expect(h).toMatchObject({
      mode: 'off',
      env: { GATEWAY_SPAM_ENGINE: 'off', GATEWAY_SPAM_ON_ERROR: 'accept' },
      line: 'spam scanning: OFF (rspamd not installed: apt-get install rspamd); mail is delivered marked "X-Gateway-Spam: unscanned"',
    })
  })

  it("not installed: keeps the operator's own on_error from the environment", async () => {
    const h = await ensureEngine(plan({ settings: { onError: 'tempfail', onErrorExplicit: true } }), opts)
    expect(h.env).toEqual({ GATEWAY_SPAM_ENGINE: 'off' })
    expect(h.line).toBe('spam scanning: OFF (rspamd not installed: apt-get install rspamd); mail is refused with 451 (on_error=tempfail: senders retry later)')
  })

  it('names the binary variable when it points nowhere', async () => {
    process.env.RSPAMD_BIN = '/opt/nothing/rspamd'
    const h = await ensureEngine(plan(), opts)
    expect(h.line).toContain('OFF (rspamd not installed: apt-get install rspamd; RSPAMD_BIN=/opt/nothing/rspamd is not a program)')
  })

  it('a private engine that fails to start: OFF, said in the log, mail flows unscanned', async () => {
    const logged: string[] = []
    const p = plan({
      binary: () => '/usr/bin/rspamd',
      startPrivate: async () => {
        throw new Error('rspamd exited during startup')
      },
    })
    const h = await ensureEngine(p, { ...opts, log: (l) => logged.push(l) })
    expect(h).toMatchObject({ mode: 'off', env: { GATEWAY_SPAM_ENGINE: 'off', GATEWAY_SPAM_ON_ERROR: 'accept' } })
    expect(h.line).toMatch(/^spam scanning: OFF \(the private rspamd did not start: see above\); mail is delivered marked/)
    expect(logged.join('\n')).toContain('the private rspamd did not start: rspamd exited during startup')
  })

  it('rejects when Ctrl-C interrupts a private start', async () => {
    const abort = new AbortController()
    const p = plan({
      binary: () => '/usr/bin/rspamd',
      startPrivate: async () => {
        abort.abort()
        throw new Error('rspamd start aborted')
      },
    })
    await expect(ensureEngine(p, { ...opts, signal: abort.signal })).rejects.toThrow('aborted')
  })
})
