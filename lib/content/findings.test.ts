// Unit tests for turning scan results into policy findings: one per check, results by precedence, generic replies.
import { describe, expect, it } from 'vitest'

import { archiveFinding, attachmentFinding, CONTENT_REPLIES, ruleFinding, sizeFinding } from './findings'
import { compilePattern } from './rules'

describe('findings', () => {
  it('makes one attachment finding per message, named after the most telling reason', () => {
    const f = attachmentFinding([
      { block: { reason: 'windows_executable', value: 'PE' }, path: ['a.pdf'] },
      { block: { reason: 'extension', value: 'exe' }, path: ['b.zip', 'c.exe'] },
    ])!
    expect(f).toMatchObject({ check: 'attachment', result: 'blocked_extension', reply: CONTENT_REPLIES.attachment })
    expect(f.detail).toBe('a.pdf: windows_executable PE; b.zip > c.exe: extension exe')
    expect(attachmentFinding([])).toBeUndefined()
  })

  it('names only the first few items in the log detail', () => {
    const many = Array.from({ length: 8 }, (_, i) => ({ block: { reason: 'extension' as const, value: 'exe' }, path: [`f${i}.exe`] }))
    expect(attachmentFinding(many)!.detail).toMatch(/f4\.exe: extension exe; and 3 more$/)
  })

  it('reports archive issues by their first problem', () => {
    expect(archiveFinding([{ problem: 'encrypted', path: ['s.zip'], detail: 'x' }])).toMatchObject({ check: 'archive', result: 'archive_encrypted', reply: CONTENT_REPLIES.archive })
    expect(archiveFinding([])).toBeUndefined()
  })

  it('names rules and sizes as checks with generic replies (no internals)', () => {
    const rule = { name: 'r1', target: { kind: 'body' as const }, regex: compilePattern('x', ''), action: 'tag' as const, tag: '' }
    expect(ruleFinding(rule)).toMatchObject({ check: 'content-rule:r1', result: 'matched', tag: 'r1', reply: { code: 554, enhanced: '5.7.1', text: 'Message content rejected' } })
    expect(sizeFinding('declared_size_exceeded', 10, 5)).toMatchObject({ check: 'size', reply: { code: 552, enhanced: '5.3.4', text: 'Message size exceeds fixed maximum message size' } })
  })
})
