// The metrics endpoint's request handler: GET /metrics (the registry's text, with
// its content type; a bearer token when one is configured) and GET /healthz
// (always open: it says "ok" and nothing else, for load balancers and probes
// that cannot send a token). Everything else: 404, other methods 405. The token
// is compared in constant time (both sides hashed first, so neither the content
// nor the length leaks through timing).

import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

export interface Exposition {
  readonly contentType: string
  readonly body: string
}

export interface HandlerOptions {
  /** Renders the metrics (may ask cluster workers: async, may fail). */
  render(): Promise<Exposition>
  /** Required as "Authorization: Bearer <token>" on /metrics when set. */
  readonly token?: string | undefined
  /** Called once per failed render, with the error (the client gets a 500 without details). */
  onError?(err: unknown): void
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

export function metricsHandler(opts: HandlerOptions): Handler {
  const expected = opts.token ? digest(opts.token) : undefined
  return (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0]
    if (path !== '/metrics' && path !== '/healthz') return reply(res, 404, 'not found\n')
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET')
      return reply(res, 405, 'method not allowed\n')
    }
    if (path === '/healthz') return reply(res, 200, 'ok\n')
    if (expected && !authorized(req.headers.authorization, expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"')
      return reply(res, 401, 'unauthorized\n')
    }
    opts.render().then(
      (e) => reply(res, 200, e.body, e.contentType),
      (err: unknown) => {
        opts.onError?.(err)
        reply(res, 500, 'metrics unavailable\n')
      },
    )
  }
}

/** Whether an Authorization header carries the expected bearer token (compared in constant time). */
export function authorized(header: string | undefined, expected: Buffer): boolean {
  const m = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header ?? '')
  const given = digest(m?.[1] ?? '')
  // always compare, also without a token: the time taken says nothing about the header
  return timingSafeEqual(given, expected) && m !== null
}

export function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

function reply(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  if (res.headersSent) return
  res.statusCode = status
  res.setHeader('Content-Type', contentType)
  res.setHeader('Cache-Control', 'no-store')
  res.end(body)
}
