// Unit tests of the JSON lines event log: one line per event, appended, written
// together per interval; a file rotated away is reopened at its path; a write
// error is logged once.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { FileEventLog, openEventLog } from './event-log'

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'event-log-'))

describe('event log', () => {
  it('appends one line per event, creating the folder', () => {
    const file = path.join(tmp(), 'sub', 'events.jsonl')
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, '{"old":1}\n')
    const log = new FileEventLog(file, () => {})
    log.write('{"a":1}')
    log.write('{"b":2}')
    log.close()
    expect(fs.readFileSync(file, 'utf8')).toBe('{"old":1}\n{"a":1}\n{"b":2}\n')
  })

  it('writes the lines of one interval together, not one system call per event', async () => {
    const file = path.join(tmp(), 'events.jsonl')
    const log = new FileEventLog(file, () => {}, 3000, 50)
    log.write('{"a":1}')
    log.write('{"b":2}')
    expect(fs.existsSync(file)).toBe(false) // nothing written yet: no write per event
    await new Promise((r) => setTimeout(r, 150))
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":2}\n')
    log.write('{"c":3}')
    log.close() // close writes what waits
    expect(fs.readFileSync(file, 'utf8')).toBe('{"a":1}\n{"b":2}\n{"c":3}\n')
  })

  it('reopens the path after the file was rotated away', () => {
    const file = path.join(tmp(), 'events.jsonl')
    const log = new FileEventLog(file, () => {}, 0, 0)
    log.write('{"n":1}')
    fs.renameSync(file, `${file}.1`)
    log.write('{"n":2}')
    log.close()
    expect(fs.readFileSync(`${file}.1`, 'utf8')).toBe('{"n":1}\n')
    expect(fs.readFileSync(file, 'utf8')).toBe('{"n":2}\n')
  })

  it('logs a write error once per streak and never throws', () => {
    const dir = tmp()
    const blocker = path.join(dir, 'not-a-dir')
    fs.writeFileSync(blocker, '')
    const warnings: string[] = []
    const log = new FileEventLog(path.join(blocker, 'events.jsonl'), (m) => warnings.push(m), 0, 0)
    expect(() => {
      log.write('{"n":1}')
      log.write('{"n":2}')
    }).not.toThrow()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/write failed/)
  })

  it('"off" writes nothing', () => {
    expect(() => openEventLog('off', () => {}).write('x')).not.toThrow()
  })
})
