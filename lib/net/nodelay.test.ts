// Unit tests: wrapping Haraka's client_pool so delivery sockets get TCP_NODELAY.

import net from 'node:net'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { setNoDelayOnClients } from './nodelay'

// A stand-in for Haraka's client_pool that hands out real TCP sockets the way
// tls_socket's wrapper does (the TCP socket is `targetsocket`). The kernel state is
// checked in test/outbound-nodelay.test.ts against the real Haraka.
const server = net.createServer((s) => s.on('error', () => {}))
let port = 0
beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => ((port = (server.address() as net.AddressInfo).port), resolve()))))
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

function fakePool(calls: boolean[]) {
  return {
    get_client(_mx: Haraka.Mx, cb: (err: unknown, socket: Haraka.OutboundSocket | null) => void) {
      const tcp = net.connect(port, '127.0.0.1', () => {
        const setNoDelay = tcp.setNoDelay.bind(tcp)
        cb(null, { name: 'fake', targetsocket: { setNoDelay: (v?: boolean) => (calls.push(v ?? true), setNoDelay(v)) } })
        tcp.destroy()
      })
    },
  }
}

describe('setNoDelayOnClients', () => {
  it('sets TCP_NODELAY on every connected socket before handing it on, and wraps only once', async () => {
    const calls: boolean[] = []
    const pool = fakePool(calls)
    setNoDelayOnClients(() => pool, () => {})
    setNoDelayOnClients(() => pool, () => {})
    for (let i = 0; i < 2; i++) {
      const seenBefore = await new Promise<number>((resolve) => pool.get_client({ exchange: '127.0.0.1' }, () => resolve(calls.length)))
      expect(seenBefore).toBe(i + 1) // already set when the delivery code gets the socket
    }
    expect(calls).toEqual([true, true])
  })

  it('passes errors through, and warns once when a socket has no TCP socket underneath', async () => {
    const warnings: string[] = []
    const pool = {
      get_client: (_mx: Haraka.Mx, cb: (err: unknown, s: Haraka.OutboundSocket | null) => void) => (_mx.exchange === 'bad' ? cb('refused', null) : cb(null, { name: 'odd' })),
    }
    setNoDelayOnClients(() => pool, (w) => warnings.push(w))
    const results = await Promise.all(
      ['bad', 'x', 'y'].map((exchange) => new Promise<unknown>((resolve) => pool.get_client({ exchange }, (err, s) => resolve(err ?? s?.name)))),
    )
    expect(results).toEqual(['refused', 'odd', 'odd'])
    expect(warnings).toEqual(['cannot set TCP_NODELAY on odd: no TCP socket underneath'])
  })

  it('refuses a pool without get_client, naming it', () => {
    expect(() => setNoDelayOnClients(() => ({}), () => {})).toThrow(/outbound\/client_pool\.js get_client is undefined, not a function/)
  })
})
