// One TLS context per listener for every STARTTLS, instead of a new one per
// connection.
//
// Haraka's STARTTLS (tls_socket.js createServer, socket.upgrade) builds each
// server-side TLSSocket from a copy of tls.ini's options ({ ...certsByHost['*'],
// server }) without a secureContext, so Node parses the key and certificate and
// builds an OpenSSL context for every session: ~9% of the outbound instance's
// CPU under 20 parallel STARTTLS + AUTH sessions (profile, issue 12). A
// tls.Server shares one context over all its connections; this does the same.
//
// How: tls.createSecureContext is wrapped to return the context it built for
// options that are the same, member by member (identity for buffers and arrays:
// Haraka copies references, so a reloaded key or certificate is a new array and
// gets a new context). Only server-side calls (options carrying the listener as
// `server`, which is what Haraka's upgrade passes) are remembered; client
// connections (outbound STARTTLS, Redis, ...) are built as before.

import net from 'node:net'
import tls from 'node:tls'

/** Contexts kept: one per listener and key/certificate generation is all that is ever needed. */
const MAX_CONTEXTS = 16

type Options = Record<string, unknown>
const WRAPPED = Symbol.for('edge-gateway.tls.shared-server-context')

let built = 0

/** Contexts created for server-side options since start (tests). */
export function serverContextsBuilt(): number {
  return built
}

export function shareServerTlsContexts(): void {
  const t = tls as typeof tls & { [WRAPPED]?: true }
  if (t[WRAPPED]) return
  const create = tls.createSecureContext
  const kept: { options: [string, unknown][]; context: tls.SecureContext }[] = []
  t.createSecureContext = (options?: tls.SecureContextOptions) => {
    const o = options as Options | undefined
    if (!o || !(o.server instanceof net.Server)) return create(options)
    const members = Object.keys(o)
      .sort()
      .map((k): [string, unknown] => [k, o[k]])
    const hit = kept.find((e) => e.options.length === members.length && e.options.every(([k, v], i) => k === members[i]![0] && v === members[i]![1]))
    if (hit) return hit.context
    const context = create(options)
    built++
    if (kept.length >= MAX_CONTEXTS) kept.shift()
    kept.push({ options: members, context })
    return context
  }
  t[WRAPPED] = true
}
