// The socket factory of Haraka's delivery queue (outbound/client_pool.js
// get_client, line 15), wrapped once per process so that a plugin sees every
// connected delivery socket before the SMTP dialogue starts. hmail.js looks
// get_client up on the module at every attempt (line 343), so the wrapper
// applies to every delivery.
//
// Why no hook or config can do it (haraka 3.3.4): no hook runs between connect
// and the first SMTP command; get_client builds the connect options from the MX
// only (port, host, localAddress); and the socket it hands out is tls_socket.js's
// pluggableStream, whose setNoDelay() does nothing (line 138). The TCP socket
// underneath is its `targetsocket` (kept under TLS after STARTTLS).

import type net from 'node:net'

import { loaderOf, requireInternal, type HarakaInternal, type HarakaSource } from './internal'

export const GET_CLIENT: HarakaInternal = {
  module: './outbound/client_pool',
  member: ['get_client'],
  kind: 'function',
  usedBy: 'gateway-tcp-nodelay',
}

export const CLIENT_POOL_INTERNALS: readonly HarakaInternal[] = [GET_CLIENT]

const WRAPPED = Symbol.for('edge-gateway.haraka.client-pool')

type Pool = Haraka.ClientPool & { [WRAPPED]?: true }

/**
 * Calls `connected(tcp, socket)` for every delivery socket once it is connected,
 * before Haraka uses it. `tcp` is the TCP socket underneath, or undefined when
 * the socket has none (a Haraka change). Once per process: later calls are ignored.
 */
export function onDeliverySocket(source: HarakaSource, connected: (tcp: Pick<net.Socket, 'setNoDelay'> | undefined, socket: Haraka.OutboundSocket) => void): void {
  requireInternal(source, GET_CLIENT)
  const pool = loaderOf(source)(GET_CLIENT.module) as Pool
  if (pool[WRAPPED]) return
  const original = pool.get_client
  pool.get_client = function (this: unknown, mx, callback) {
    original.call(this, mx, (err, socket) => {
      if (socket) {
        const tcp = socket.targetsocket
        connected(tcp && typeof tcp.setNoDelay === 'function' ? (tcp as Pick<net.Socket, 'setNoDelay'>) : undefined, socket)
      }
      callback(err, socket)
    })
  }
  pool[WRAPPED] = true
}
