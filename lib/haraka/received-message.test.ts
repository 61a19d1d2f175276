// Unit tests for putting back the header lines Haraka dropped past [headers] max_lines
// (the end-to-end proof, through a real instance, is test/security/quarantine-bytes.test.ts).
import { describe, expect, it } from 'vitest'

import { restore } from './received-message'

describe('restore', () => {
  const sender = ['From: a\n', 'To: b\n', 'X-Cut: first line\n']

  it('puts dropped lines after the last sender field, before appended fields, a cut fold joined to its field', () => {
    const list = ['Received: x\n', ...sender, 'X-Gateway-Checks: y\n']
    const out = restore(list, sender, ['\tcontinued\r\n', 'X-More: 1\r\n', ' folded\r\n', 'X-Last: 2\r\n'])
    expect(out).toEqual(['Received: x\n', 'From: a\n', 'To: b\n', 'X-Cut: first line\n\tcontinued\r\n', 'X-More: 1\r\n folded\r\n', 'X-Last: 2\r\n', 'X-Gateway-Checks: y\n'])
    expect(list).toEqual(['Received: x\n', ...sender, 'X-Gateway-Checks: y\n']) // the transaction's own list is untouched
  })

  it('finds its place when fields were removed from the sender header (header firewall)', () => {
    const list = ['X-Gateway-Checks: y\n', 'Received: x\n', 'From: a\n', 'To: b\n'] // X-Cut removed
    // the rest of the removed field goes with it
    expect(restore(list, sender, ['\tcontinued\r\n', 'X-More: 1\r\n'])).toEqual([...list, 'X-More: 1\r\n'])
  })
})
