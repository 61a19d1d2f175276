// Loopback addresses for tests. Every test environment gets its own 127.x.y.0/24
// block, so instances, fake MX hosts and DNS servers of parallel test files never
// compete for a port, and "which address did this connection come from" is meaningful.

import net from 'node:net'

let counter = 0

export interface AddressBlock {
  /** The n-th address of the block, e.g. ip(1) = "127.x.y.1". */
  ip(n: number): string
}

export function addressBlock(): AddressBlock {
  counter++
  const x = 10 + ((process.pid * 7 + counter * 13) % 240)
  const y = (process.pid + counter * 31 + Math.floor(Math.random() * 250)) % 250
  return { ip: (n: number) => `127.${x}.${y}.${n}` }
}

/** Accepts connections and never answers: a scanning engine that hangs. */
export class SilentServer {
  private readonly sockets = new Set<net.Socket>()
  private readonly server = net.createServer((s) => {
    this.sockets.add(s)
    s.on('error', () => {}).on('close', () => this.sockets.delete(s)).resume()
  })

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  /** host:port, as the engines' ini files want it. */
  get address(): string {
    return `${this.host}:${this.port}`
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.port, this.host, () => resolve())
    })
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
