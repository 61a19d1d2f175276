// The metrics endpoint's HTTP server. Unreferenced: it never keeps a stopping
// instance alive, and closing it drops idle keep-alive connections so shutdown
// does not wait for Prometheus's next scrape.

import http from 'node:http'

import type { HostPort } from '../net/address'
import type { Handler } from './http'

export interface MetricsServer {
  close(): Promise<void>
}

export interface ServeEvents {
  /** Listening failed (the address is in use): the endpoint does not exist. */
  onListenError(err: NodeJS.ErrnoException): void
  /** A later server error: the endpoint keeps running. */
  onError(err: NodeJS.ErrnoException): void
}

/** Listens on `addr` and serves `handler`. */
export function serveMetrics(addr: HostPort, handler: Handler, events: ServeEvents): MetricsServer {
  const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, handler)
  server.keepAliveTimeout = 5_000
  let listening = false
  server.once('listening', () => (listening = true))
  server.on('error', (err: NodeJS.ErrnoException) => (listening ? events.onError(err) : events.onListenError(err)))
  server.listen({ host: addr.host, port: addr.port, exclusive: true })
  server.unref()
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
