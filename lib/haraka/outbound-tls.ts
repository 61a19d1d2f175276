// The TLS options of every outgoing STARTTLS (outbound/tls.js, a singleton:
// get_tls_options, line 39), extended once per process with extra trusted CAs.
//
// Why no config can do it (haraka 3.3.4): tls.ini [outbound] is read by
// tls_socket.load_plugin_tls_options (tls_socket.js line 256), which resolves
// only key, cert and dhparam from files; a `ca` there would reach tls.connect as
// a file name, not as certificates, and would replace the system's CAs instead of
// adding to them. hmail.js calls get_tls_options right before the upgrade
// (line 838); no hook runs in between.

import { loaderOf, requireInternal, type HarakaInternal, type HarakaSource } from './internal'

export const GET_TLS_OPTIONS: HarakaInternal = {
  module: './outbound/tls',
  member: ['get_tls_options'],
  kind: 'function',
  usedBy: 'gateway-tls-policy (ca_file)',
}

export const OUTBOUND_TLS_INTERNALS: readonly HarakaInternal[] = [GET_TLS_OPTIONS]

const WRAPPED = Symbol.for('edge-gateway.haraka.outbound-tls-ca')

/** Makes every outgoing STARTTLS trust `ca` (PEM certificates: the system's plus the operator's). Once per process. */
export function trustForOutboundTls(source: HarakaSource, ca: readonly string[]): void {
  requireInternal(source, GET_TLS_OPTIONS)
  const obtls = loaderOf(source)(GET_TLS_OPTIONS.module) as Haraka.OutboundTls
  if (obtls[WRAPPED]) return
  const options = obtls.get_tls_options.bind(obtls)
  obtls.get_tls_options = (mx) => ({ ...options(mx), ca: [...ca] })
  obtls[WRAPPED] = true
}
