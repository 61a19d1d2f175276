// Whether this process could listen on an address right now. `gateway start`
// asks before it starts anything: an address in use then costs one line naming
// the address and the setting that chose it, instead of an instance dying with
// Haraka's stack trace (twice, at ERROR and CRIT) after Redis and the engines
// were already started for nothing. An instance started on its own (systemd)
// asks too, synchronously from gateway-core's register(): Haraka opens its
// sockets after every register() and no hook runs in between.

import { spawnSync } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'

import { formatHostPort, type HostPort } from './address'

/** Why listening on `addr` fails, in words, or undefined when it works. */
export function listenProblem(addr: HostPort): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', (err: NodeJS.ErrnoException) => resolve(describe(err, addr)))
    server.listen({ host: addr.host, port: addr.port, exclusive: true }, () => server.close(() => resolve(undefined)))
  })
}

/** listenProblem for each address, synchronously (in a child process); undefined where listening works. */
export function listenProblemsSync(addrs: readonly HostPort[]): (string | undefined)[] {
  const probe = path.join(__dirname, 'listen-probe.js')
  const r = spawnSync(process.execPath, [probe, JSON.stringify(addrs)], { encoding: 'utf8', timeout: 10_000 })
  if (r.status !== 0) throw new Error(`listen check failed: ${r.error?.message ?? r.stderr}`)
  return (JSON.parse(r.stdout) as (string | null)[]).map((p) => p ?? undefined)
}

function describe(err: NodeJS.ErrnoException, addr: HostPort): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use (another process listens there)'
    case 'EACCES':
      return `permission denied (port ${addr.port} needs root or CAP_NET_BIND_SERVICE)`
    case 'EADDRNOTAVAIL':
      return `${addr.host} is not an address of this host`
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${addr.host} does not resolve to an address`
    default:
      return `${err.message.replace(` ${formatHostPort(addr)}`, '')}`
  }
}
