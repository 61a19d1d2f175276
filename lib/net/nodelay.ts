// TCP_NODELAY for the connections Haraka's outbound delivery opens. Without it
// every message waits on Nagle's algorithm plus the receiver's delayed ACK (~40 ms
// on Linux) whenever a small write (".", QUIT, a pipelined command) follows
// unacknowledged data: measured here as 2-3x fewer messages per second.
//
// Haraka offers no hook or option for it (lib/haraka/client-pool.ts says why), so
// the option is set on the TCP socket itself as soon as it is connected, before
// the first SMTP command. It stays set across STARTTLS (an option of the kernel
// socket, which TLS runs on).

import { onDeliverySocket, type HarakaSource } from '../haraka'

/**
 * Sets TCP_NODELAY on every delivery socket (installed once per process). `warn`
 * is called once when a socket has no TCP socket to set it on (a Haraka change):
 * delivery goes on, only slower.
 */
export function setNoDelayOnClients(haraka: HarakaSource, warn: (why: string) => void): void {
  let warned = false
  onDeliverySocket(haraka, (tcp, socket) => {
    if (tcp) {
      tcp.setNoDelay(true)
    } else if (!warned) {
      warned = true
      warn(`cannot set TCP_NODELAY on ${socket.name ?? 'an outbound socket'}: no TCP socket underneath`)
    }
  })
}
