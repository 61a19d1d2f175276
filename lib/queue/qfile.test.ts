// Unit tests for reading Haraka queue file names and todo headers.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { listQueue, parseQueueFileName, parseTodo, queueId } from './qfile'

function todoBuffer(todo: unknown): Buffer {
  const body = Buffer.from(`\n${JSON.stringify(todo)}\n`)
  const len = Buffer.alloc(4)
  len.writeUInt32BE(body.length)
  return Buffer.concat([len, body])
}

const TODO = {
  queue_time: 1,
  domain: 'Partner.Test',
  rcpt_to: [{ original: '<a@Partner.Test>', original_host: 'Partner.Test', host: 'partner.test', user: 'a' }],
  mail_from: { original: '<app@example.com>', host: 'example.com', user: 'app' },
  notes: {},
  uuid: 'ABC.1',
}

describe('queue file names', () => {
  it('parses Haraka 3.3 names and keeps the ID stable across retries', () => {
    const first = parseQueueFileName('1795825954327_1795825954327_0_12459_dnQOpC_1_vm')!
    expect(first).toMatchObject({ arrival: 1795825954327, attempts: 0, pid: 12459, uid: 'dnQOpC', host: 'vm' })
    // after a failed attempt Haraka renames: next attempt, attempts and counter change
    const later = parseQueueFileName('1795825954327_1795825959999_1_12459_dnQOpC_7_vm')!
    expect(queueId(later)).toBe(queueId(first))
  })

  it('ignores temporary, error and foreign files', () => {
    for (const n of ['__tmp__.1_1_0_1_abc_1_h', 'error.1_1_0_1_abc_1_h', 'held-domains', '1_2_3', 'a_1_0_1_abc_1_h', '1_1_0_1_a/b_1_h', '1_1_0_1_abc_1_h_x']) {
      expect(parseQueueFileName(n), n).toBeNull()
    }
  })
})

describe('todo header', () => {
  it('reads domain and envelope', () => {
    expect(parseTodo(todoBuffer(TODO))).toEqual({ domain: 'partner.test', mailFrom: 'app@example.com', rcptTo: ['a@partner.test'], uuid: 'ABC.1' })
  })

  it('gives the null sender as an empty string', () => {
    expect(parseTodo(todoBuffer({ ...TODO, mail_from: { original: '<>', host: '', user: '' } })).mailFrom).toBe('')
  })

  it('refuses truncated or foreign headers', () => {
    expect(() => parseTodo(todoBuffer(TODO).subarray(0, 20))).toThrow(/truncated/)
    expect(() => parseTodo(todoBuffer({ hello: 1 }))).toThrow(/lacks domain/)
  })

  it('lists a folder oldest first and reports an unreadable file instead of failing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qfile-'))
    try {
      fs.writeFileSync(path.join(dir, '2000_2000_0_1_bbbbbb_1_h'), Buffer.concat([todoBuffer(TODO), Buffer.from('Subject: x\r\n\r\nbody\r\n')]))
      fs.writeFileSync(path.join(dir, '1000_1000_2_1_aaaaaa_1_h'), Buffer.from([0, 0, 0, 99, 1]))
      fs.writeFileSync(path.join(dir, '__tmp__.3000_3000_0_1_cccccc_1_h'), 'partial')
      const items = listQueue(dir)
      expect(items.map((i) => [i.name.uid, i.todo?.domain ?? i.error])).toEqual([
        ['aaaaaa', 'todo header truncated (1 of 99 bytes)'],
        ['bbbbbb', 'partner.test'],
      ])
      expect(listQueue(path.join(dir, 'missing'))).toEqual([])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
