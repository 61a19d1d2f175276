// TXT lookups for DMARC through Node's default resolver, which gateway-core
// points at the configured DNS servers ([dns] servers / GATEWAY_DNS_SERVERS),
// with a deadline so a silent server cannot hold a message past the hook timeout.

import dns from 'node:dns'

import type { TxtResolver } from './dmarc'

export function txtResolver(timeoutMs: number): TxtResolver {
  return (name) =>
    new Promise<string[][]>((resolve, reject) => {
      const timer = setTimeout(() => reject(Object.assign(new Error(`TXT ${name}: no answer in ${timeoutMs} ms`), { code: 'ETIMEOUT' })), timeoutMs)
      dns.promises.resolveTxt(name).then(
        (answers) => (clearTimeout(timer), resolve(answers)),
        (err: unknown) => (clearTimeout(timer), reject(err)),
      )
    })
}
