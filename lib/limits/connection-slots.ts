// Open connections per client address, counted in this process. This count is
// the process's own truth on purpose (not shared through Redis, unlike the
// connection rate): what a flood of parallel sessions exhausts (sockets, file
// descriptors, memory, hook slots) belongs to the process, and a count kept
// elsewhere goes wrong when a node dies holding connections (haraka-plugin-limit
// keeps it in Redis with a 3-minute TTL, so a session older than 3 minutes no
// longer counts and a crashed node's connections are counted for minutes).
// With several Haraka processes (smtp.ini nodes) each one enforces the limit on
// the connections it holds.
//
// Keys are client addresses in a Map (never a plain object: no prototype names),
// and an address's entry is removed when its last connection closes: memory
// follows open connections, nothing else.

export class ConnectionSlots {
  private readonly open = new Map<string, number>()

  /** Counts one more open connection from `ip`; returns how many are open now (this one included). */
  take(ip: string): number {
    const n = (this.open.get(ip) ?? 0) + 1
    this.open.set(ip, n)
    return n
  }

  /** One connection from `ip` has closed (call exactly once per take). */
  release(ip: string): void {
    const n = (this.open.get(ip) ?? 0) - 1
    if (n > 0) this.open.set(ip, n)
    else this.open.delete(ip)
  }

  /** Open connections from `ip`. */
  count(ip: string): number {
    return this.open.get(ip) ?? 0
  }

  /** Addresses with an open connection. */
  get addresses(): number {
    return this.open.size
  }
}
