// The dashboard's HTTP request handler: GET or HEAD only, a bounded request
// target with known query parameters only, the token check, then the page and
// its assets, /api/summary?range= and /api/links. Data comes from the functions
// it is given (Redis in production, fixed documents in unit tests).

import type { IncomingMessage, ServerResponse } from 'node:http'

import type { LinksJson } from '../links/view'
import type { Asset } from './assets'
import { authorize, sessionCookie } from './auth'
import { KNOWN_PARAMS, MAX_TARGET_LENGTH, SECURITY_HEADERS } from './headers'
import { parseRange, type Range } from './range'
import type { SummaryV1 } from './summary'

export interface DashboardSource {
  summary(range: Range): Promise<SummaryV1>
  links(): Promise<LinksJson>
}

export interface HandlerOptions {
  /** Empty: no token (loopback only, checked by the configuration). */
  readonly token: string
  readonly assets: ReadonlyMap<string, Asset>
  readonly source: DashboardSource
  /** One line about a failure (never a token: request URLs are not logged). */
  readonly log: (line: string) => void
}

type Reply = { status: number; type: string; body: string | Buffer; headers?: Record<string, string> }

const text = (status: number, body: string, headers?: Record<string, string>): Reply => ({ status, type: 'text/plain; charset=utf-8', body: `${body}\n`, ...(headers ? { headers } : {}) })
const json = (value: unknown): Reply => ({ status: 200, type: 'application/json; charset=utf-8', body: JSON.stringify(value), headers: { 'Cache-Control': 'no-store' } })

export function dashboardHandler(opts: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(req, opts).then(
      (reply) => send(req, res, reply),
      (err: unknown) => {
        opts.log(`dashboard: cannot read the counters: ${err instanceof Error ? err.message : String(err)}`)
        send(req, res, { ...text(503, 'the gateway counters cannot be read right now (Redis)'), headers: { 'Cache-Control': 'no-store', 'Retry-After': '5' } })
      },
    )
  }
}

async function route(req: IncomingMessage, opts: HandlerOptions): Promise<Reply> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'only GET and HEAD', { Allow: 'GET, HEAD' })
  const target = req.url ?? '/'
  if (target.length > MAX_TARGET_LENGTH) return text(414, 'request target too long')
  let url: URL
  try {
    url = new URL(target, 'http://dashboard.invalid')
  } catch {
    return text(400, 'bad request target')
  }
  for (const name of url.searchParams.keys()) if (!KNOWN_PARAMS.has(name)) return text(400, `unknown query parameter ${JSON.stringify(name.slice(0, 40))}`)
  if (url.searchParams.getAll('range').length > 1 || url.searchParams.getAll('token').length > 1) return text(400, 'a query parameter given twice')

  const auth = authorize(opts.token, req.headers, url.searchParams.get('token'))
  if (auth === 'denied') return text(401, 'this dashboard needs its token: open it as /?token=SECRET once, or send "Authorization: Bearer SECRET"', { 'WWW-Authenticate': 'Basic realm="gateway dashboard", charset="UTF-8"' })
  if (auth === 'set-cookie') {
    // the token leaves the address bar (and history) at once; the cookie carries on
    url.searchParams.delete('token')
    return { status: 303, type: 'text/plain; charset=utf-8', body: '', headers: { 'Set-Cookie': sessionCookie(opts.token), Location: `${url.pathname}${url.search}` } }
  }

  if (url.pathname === '/api/summary') {
    const range = parseRange(url.searchParams.get('range'))
    if (!range) return text(400, 'range must be 1h, 24h or 30d')
    return json(await opts.source.summary(range))
  }
  if (url.pathname === '/api/links') return json(await opts.source.links())
  // browsers ask for it on their own: no icon, and no 404 in their console
  if (url.pathname === '/favicon.ico') return { status: 204, type: 'image/x-icon', body: '' }
  const asset = opts.assets.get(url.pathname === '/index.html' ? '/' : url.pathname)
  if (asset) return { status: 200, type: asset.type, body: asset.body, headers: { 'Cache-Control': url.pathname === '/' ? 'no-cache' : 'max-age=300' } }
  return text(404, 'not found')
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body
  res.writeHead(reply.status, { ...SECURITY_HEADERS, 'Content-Type': reply.type, 'Content-Length': String(body.length), ...reply.headers })
  res.end(req.method === 'HEAD' ? undefined : body)
}
