// Reads a delivery status notification (RFC 3464) as received by a test sink:
// the top-level headers, the MIME parts of the multipart/report, and the fields
// of its message/delivery-status part (per-message block, then one per recipient).

export interface ParsedDsn {
  headers: Map<string, string>
  contentType: string
  parts: { headers: Map<string, string>; body: string }[]
  /** The delivery-status part: [per-message fields, ...per-recipient fields]. */
  status: Map<string, string>[]
}

function splitHead(text: string): { headers: Map<string, string>; body: string } {
  const end = text.indexOf('\r\n\r\n')
  const head = end < 0 ? text : text.slice(0, end)
  const body = end < 0 ? '' : text.slice(end + 4)
  const headers = new Map<string, string>()
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const i = line.indexOf(':')
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim())
  }
  return { headers, body }
}

export function parseDsn(raw: string): ParsedDsn {
  const { headers, body } = splitHead(raw)
  const contentType = headers.get('content-type') ?? ''
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1]
  if (!boundary) throw new Error(`not multipart: ${contentType}`)
  const sections = body.split(`--${boundary}`)
  const parts = sections.slice(1, sections.findIndex((s) => s.startsWith('--'))).map((s) => splitHead(s.replace(/^\r\n/, '')))
  const ds = parts.find((p) => (p.headers.get('content-type') ?? '').toLowerCase().startsWith('message/delivery-status'))
  const status = (ds?.body ?? '')
    .trim()
    .split(/\r\n\r\n/)
    .map((block) => {
      const m = new Map<string, string>()
      for (const line of block.split('\r\n')) {
        const i = line.indexOf(':')
        if (i > 0) m.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim())
      }
      return m
    })
  return { headers, contentType, parts, status }
}
