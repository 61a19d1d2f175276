// Haraka's own plugins for the checks of the gateway's inbound pipeline that Haraka
// ships an equivalent of: what the same protections cost a Haraka deployment built
// from stock parts. It separates "protections cost CPU" (any implementation pays it)
// from "the gateway implements them expensively" (which the ratio to bare Haraka
// alone cannot tell apart). bench/variants/bare-haraka.ts runs it (bare-haraka-stock).
//
// Gateway inbound plugin                          stock plugin here
//   gateway-accepted-domains                        rcpt_to.in_host_list
//   gateway-recipient-limit, gateway-client-limits  limit: recipients, errors, unrecognized
//     ([errors]; connection limits exempt loopback,   commands (the connection and rate
//     so the bench's load never meets them)           limits need Redis and would count
//                                                     loopback: off)
//   gateway-header-firewall, gateway-message-syntax headers (its default checks)
//   spf, dkim                                       spf, dkim (the gateway's spf.ini and
//                                                     dkim.ini: verify only)
//   gateway-content                                 attachment (Haraka's body parser with
//                                                     its attachment hooks, archives by bsdtar)
// With no stock equivalent, so not in this pipeline: DMARC (gateway-dmarc), the
// recipient directory and harvest defence (gateway-recipients), the sender filter
// against spoofing, the signed organisation header, message records, counters, link
// state and metrics (Redis), the data budget. Their cost is in BENCHMARKS.md's
// "What each protection costs" (BENCH_ABLATION=1).
// Both sides alike: haraka-plugin-spf skips clients from private addresses, and every
// benchmark client is on loopback, so neither pipeline makes SPF lookups here; the
// bench's messages carry no archive, so the attachment plugin never runs bsdtar (not
// installed: it logs a warning at startup).

import fs from 'node:fs'
import path from 'node:path'

import { GATEWAY_ROOT } from '../../lib/config/paths'

/** In Haraka's order of the gateway's inbound list; the bench's accepting plugin follows. */
export const STOCK_PLUGINS = ['limit', 'spf', 'rcpt_to.in_host_list', 'headers', 'dkim', 'attachment'] as const

/** Config files of the stock pipeline (names relative to the instance's config/). */
export function stockConfigFiles(): Record<string, string> {
  const inbound = (name: string) => fs.readFileSync(path.join(GATEWAY_ROOT, 'inbound', 'config', name), 'utf8')
  return {
    // the gateway's own SPF and DKIM settings: the same lookups and verdicts
    'spf.ini': inbound('spf.ini'),
    'dkim.ini': inbound('dkim.ini'),
    // the gateway's defaults: 1,000 recipients per message, 20 protocol errors
    'limit.ini': '[recipients]\nenabled=true\nmax=1000\n[errors]\nenabled=true\nmax=20\n[unrecognized_commands]\nenabled=true\nmax=10\n',
  }
}

/**
 * A preload (node --require) that points node's resolvers at `server` ("ip:port"):
 * the stock plugins resolve through node:dns, and this machine has no other DNS.
 * The gateway's instances get the same empty fixture DNS through [dns] servers.
 */
export function dnsPreload(server: string): string {
  return `// written by bench/variants/stock-pipeline.ts
const dns = require('node:dns')
dns.setServers([${JSON.stringify(server)}])
dns.promises.setServers([${JSON.stringify(server)}])
`
}
