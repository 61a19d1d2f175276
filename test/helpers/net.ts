// Loopback addresses for tests. Every test environment gets its own 127.x.y.0/24
// block, so instances, fake MX hosts and DNS servers of parallel test files never
// compete for a port, and "which address did this connection come from" is meaningful.

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
