// Unit test of gateway-tcp-nodelay through the real adapter, without Haraka and
// without sockets: its declaration (both instances, no hooks, no settings) and
// what setup() installs on a stand-in for Haraka's outbound/client_pool: every
// delivery socket get_client hands out has TCP_NODELAY set on the TCP socket
// underneath before Haraka gets it; a socket with none is warned about once and
// still delivered; a Haraka without get_client refuses to load, naming it.

import { describe, expect, it, vi } from 'vitest'

import { declarationOf } from '../../lib/plugin/declaration'
import { pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

type Callback = (err: unknown, socket?: { name?: string; targetsocket?: unknown }) => void

/** A fresh stand-in pool (the wrap is once per pool object) whose get_client answers `socket`. */
function pool(socket: { name?: string; targetsocket?: unknown }) {
  return {
    get_client(_mx: unknown, cb: Callback) {
      cb(null, socket)
    },
  }
}

function getClient(p: { get_client(mx: unknown, cb: Callback): void }) {
  return new Promise<unknown>((resolve) => p.get_client({ exchange: 'mx.elsewhere.test' }, (_err, s) => resolve(s)))
}

describe('gateway-tcp-nodelay', () => {
  it('runs in both instances, with no hooks', () => {
    expect(declarationOf(plugin)).toMatchObject({ instances: ['inbound', 'outbound'], hooks: [] })
    const h = pluginHarness(plugin, { haraka: { './outbound/client_pool': pool({}) } })
    expect(h.hooks).toEqual([])
    expect(h.log).toEqual(['INFO [gateway-tcp-nodelay] TCP_NODELAY on for outgoing SMTP connections'])
  })

  it('sets TCP_NODELAY on the TCP socket under every delivery socket, before Haraka gets it', async () => {
    const tcp = { setNoDelay: vi.fn() }
    const socket = { name: 'outbound::mx', targetsocket: tcp }
    const p = pool(socket)
    pluginHarness(plugin, { haraka: { './outbound/client_pool': p } })
    expect(await getClient(p)).toBe(socket)
    expect(await getClient(p)).toBe(socket)
    expect(tcp.setNoDelay.mock.calls).toEqual([[true], [true]])
  })

  it('a socket with no TCP socket underneath is warned about once, and still handed to Haraka', async () => {
    const socket = { name: 'outbound::odd' }
    const p = pool(socket)
    const h = pluginHarness(plugin, { haraka: { './outbound/client_pool': p } })
    expect(await getClient(p)).toBe(socket)
    expect(await getClient(p)).toBe(socket)
    expect(h.log.filter((l) => l.startsWith('WARN'))).toEqual(['WARN [gateway-tcp-nodelay] cannot set TCP_NODELAY on outbound::odd: no TCP socket underneath'])
  })

  it('refuses to load on a Haraka without client_pool.get_client, naming what is missing', () => {
    expect(() => pluginHarness(plugin, { haraka: { './outbound/client_pool': {} } })).toThrow(/get_client.*gateway-tcp-nodelay/)
  })
})
