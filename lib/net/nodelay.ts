// TCP_NODELAY for the connections Haraka's outbound delivery opens. Without it
// every message waits on Nagle's algorithm plus the receiver's delayed ACK (~40 ms
// on Linux) whenever a small write (".", QUIT, a pipelined command) follows
// unacknowledged data: measured here as 2-3x fewer messages per second.
//
// Haraka offers no hook or option for it, and its socket wrapper's setNoDelay()
// does nothing; so client_pool.get_client (which hmail.js looks up on every
// delivery attempt) is wrapped, and the option is set on the TCP socket itself as
// soon as it is connected, before the first SMTP command. It stays set across
// STARTTLS (an option of the kernel socket, which TLS runs on).

const WRAPPED = Symbol.for('edge-gateway.tcp-nodelay')

type Pool = Haraka.ClientPool & { [WRAPPED]?: true }

/**
 * Wraps `pool.get_client` (once per process) so that every socket it hands out
 * has TCP_NODELAY set. `warn` is called when a socket has no TCP socket to set
 * it on (a Haraka change): delivery goes on, only slower.
 */
export function setNoDelayOnClients(pool: Pool, warn: (why: string) => void): void {
  if (pool[WRAPPED]) return
  const original = pool.get_client
  if (typeof original !== 'function') throw new Error("Haraka's outbound/client_pool has no get_client(): this Haraka version is not supported")
  let warned = false
  pool.get_client = function (this: unknown, mx, callback) {
    original.call(this, mx, (err, socket) => {
      const tcp = socket?.targetsocket
      if (tcp && typeof tcp.setNoDelay === 'function') {
        tcp.setNoDelay(true)
      } else if (socket && !warned) {
        warned = true
        warn(`cannot set TCP_NODELAY on ${socket.name ?? 'an outbound socket'}: no TCP socket underneath`)
      }
      callback(err, socket)
    })
  }
  pool[WRAPPED] = true
}
