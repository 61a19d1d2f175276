import { describe, expect, it } from 'vitest'

import { DataLineFilter, type DataLineOptions } from './data-lines'

const STRICT: DataLineOptions = { nul: 'reject', header: 'reject' }

/** Splits raw DATA bytes the way Haraka does (on LF only), feeds every line, returns what Haraka would get. */
function run(raw: string, opts: DataLineOptions = STRICT) {
  const f = new DataLineFilter(opts)
  const bytes = Buffer.from(raw, 'latin1')
  const out: Buffer[] = []
  let from = 0
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, from)) {
    out.push(...f.feed(bytes.subarray(from, i + 1)))
    from = i + 1
  }
  const lines = out.map((b) => b.toString('latin1'))
  // where Haraka would end DATA: the first ".\r\n" it gets
  const end = lines.indexOf('.\r\n')
  return { findings: f.findings, lines, before: end === -1 ? lines : lines.slice(0, end), ended: end !== -1 }
}

describe('DataLineFilter', () => {
  it('passes a clean message unchanged and ends at CRLF.CRLF', () => {
    const r = run('Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\n')
    expect(r.lines).toEqual(['Subject: x\r\n', '\r\n', '..dot\r\n', 'body\r\n', '.\r\n'])
    expect(r.findings).toEqual({ bareLf: false, bareCr: false, nul: false, malformedHeader: undefined })
  })

  it('hands a clean line on as the very Buffer it got (no copy per line), header and body alike', () => {
    const f = new DataLineFilter(STRICT)
    for (const text of ['Subject: x\r\n', ' folded\r\n', '\r\n', 'body\r\n', '..dot\r\n']) {
      const line = Buffer.from(text, 'latin1')
      const out = f.feed(line)
      expect(out).toHaveLength(1)
      expect(out[0]).toBe(line)
    }
  })

  // The end-of-data variants of the 2023 SMTP smuggling research: none ends DATA, every one is noted.
  it.each([
    ['\\n.\\n', 'a\n.\nMAIL FROM:<x@y>\r\n'],
    ['\\n.\\r\\n', 'a\n.\r\nMAIL FROM:<x@y>\r\n'],
    ['\\r.\\r', 'a\r.\rMAIL FROM:<x@y>\r\n'],
    ['\\r\\n.\\r', 'a\r\n.\rMAIL FROM:<x@y>\r\n'],
    ['\\r\\n.\\n', 'a\r\n.\nMAIL FROM:<x@y>\r\n'],
    ['\\r.\\r\\n', 'a\r.\r\nMAIL FROM:<x@y>\r\n'],
    ['\\r\\n.\\r\\r\\n', 'a\r\n.\r\r\nMAIL FROM:<x@y>\r\n'],
  ])('%s is content, not the end of DATA', (_name, smuggled) => {
    const r = run(`Subject: x\r\n\r\n${smuggled}`)
    expect(r.ended).toBe(false)
    expect(r.findings.bareLf || r.findings.bareCr).toBe(true)
    expect(r.lines.every((l) => /^[^\r\n]*\r\n$/.test(l))).toBe(true)
    // the dot stays text: stuffed, so Haraka keeps one "." line
    expect(r.lines).toContain('..\r\n')
  })

  it('normalises bare LF and bare CR to CRLF and keeps a dot after them as text', () => {
    const r = run('Subject: x\r\n\r\na\nb\rc\n.d\r\n')
    expect(r.lines).toEqual(['Subject: x\r\n', '\r\n', 'a\r\n', 'b\r\n', 'c\r\n', '..d\r\n'])
    expect(r.findings).toMatchObject({ bareLf: true, bareCr: true })
  })

  it('notes NUL, and removes it when told to strip', () => {
    expect(run('Subject: x\r\n\r\na\0b\r\n').findings.nul).toBe(true)
    expect(run('Subject: x\r\n\r\na\0b\r\n', { ...STRICT, nul: 'strip' }).lines).toEqual(['Subject: x\r\n', '\r\n', 'ab\r\n'])
  })

  it.each([
    ['no colon', 'Subject: x\r\nno colon here\r\nX-A: b\r\n\r\nbody\r\n', 'no colon here'],
    ['NUL in the name', 'Subject: x\r\nX-\0A: b\r\n\r\nbody\r\n', 'X-\\x00A: b'],
    ['8-bit in the name', 'Subject: x\r\nX-\xe9: b\r\n\r\nbody\r\n', 'X-\\xe9: b'],
    ['continuation first', ' folded\r\nSubject: x\r\n\r\nbody\r\n', ' folded'],
  ])('notes a malformed header line (%s)', (_name, raw, shown) => {
    expect(run(raw).findings.malformedHeader).toBe(shown)
  })

  it('accepts obsolete white space before the colon, folding, and 8-bit values', () => {
    expect(run('X-A : b\r\nSubject: caf\xe9\r\n\tmore\r\n\r\nno: header here\r\n').findings.malformedHeader).toBeUndefined()
  })

  it('repair ends the header section before the malformed line', () => {
    const r = run('Subject: x\r\nno colon\r\nX-A: b\r\n\r\nbody\r\n', { ...STRICT, header: 'repair' })
    expect(r.lines).toEqual(['Subject: x\r\n', '\r\n', 'no colon\r\n', 'X-A: b\r\n', '\r\n', 'body\r\n'])
  })
})

describe('DataLineFilter header fields that are not UTF-8', () => {
  it('reports each such field with its continuation lines, and no other', () => {
    const fields: string[] = []
    run('Subject: caf\xe9\r\n\tsuite\r\nX-Ok: caf\xc3\xa9\r\nX-Latin: \xfc\r\n\r\nbody \xe9\r\n', { ...STRICT, onNonUtf8Field: (f) => fields.push(f.toString('latin1')) })
    expect(fields).toEqual(['Subject: caf\xe9\r\n\tsuite\r\n', 'X-Latin: \xfc\r\n'])
  })
})
