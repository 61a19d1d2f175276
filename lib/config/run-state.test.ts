// Unit tests for the runtime file of `gateway start`: owner-only, atomic, and a
// file whose launcher is gone is stale, never trusted.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { processStart, readRuntimeState, removeRuntimeState, runtimeFile, writeRuntimeState, type RuntimeState } from './run-state'

let root: string

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-runtime-'))
})
afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true })
})

function state(over: Partial<RuntimeState> = {}): RuntimeState {
  return {
    version: 1,
    pid: process.pid,
    pidStart: processStart(process.pid),
    startedAt: '2026-01-01T00:00:00.000Z',
    status: 'running',
    redis: { mode: 'private', url: 'redis://:secret@127.0.0.1:40000', prefix: 'gw' },
    instances: { inbound: { listen: ['127.0.0.1:2525'], pid: null }, outbound: { listen: ['127.0.0.1:2587'], pid: null } },
    internalHosts: ['127.0.0.1:2526'],
    demoMailbox: '127.0.0.1:2526',
    ...over,
  }
}

/** A pid that certainly does not run: a child that has exited and been reaped. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!

describe('runtime file', () => {
  it('is written owner-only (it may hold a Redis password) in an owner-only folder, and read back while its launcher lives', () => {
    writeRuntimeState(root, state())
    const file = runtimeFile(root)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700)
    // var/ itself keeps the default mode (private engines run as their own users below it)
    expect(fs.statSync(path.join(root, 'var')).mode & 0o077).not.toBe(0)
    expect(fs.readdirSync(path.dirname(file))).toEqual(['gateway.json']) // no temporary file left
    const found = readRuntimeState(root)
    expect(found.kind).toBe('running')
    expect(found.kind === 'running' && found.state.redis.url).toBe('redis://:secret@127.0.0.1:40000')
  })

  it('narrows a run folder that exists with a wider mode', () => {
    fs.mkdirSync(path.join(root, 'var', 'run'), { recursive: true, mode: 0o755 })
    writeRuntimeState(root, state())
    expect(fs.statSync(path.join(root, 'var', 'run')).mode & 0o777).toBe(0o700)
  })

  it('none when there is no file', () => {
    expect(readRuntimeState(root)).toEqual({ kind: 'none', file: runtimeFile(root) })
  })

  it('stale when its launcher is gone', () => {
    const pid = deadPid()
    writeRuntimeState(root, state({ pid, pidStart: null }))
    expect(readRuntimeState(root)).toEqual({ kind: 'stale', file: runtimeFile(root), why: `is stale: its launcher (pid ${pid}, started 2026-01-01T00:00:00.000Z) is not running` })
  })

  it('stale when the pid now belongs to another process (started at another time)', () => {
    writeRuntimeState(root, state({ pidStart: '1' }))
    expect(readRuntimeState(root).kind).toBe(processStart(process.pid) === null ? 'running' : 'stale')
  })

  it('stale, with the reason, when it is not a runtime file', () => {
    fs.mkdirSync(path.dirname(runtimeFile(root)), { recursive: true })
    fs.writeFileSync(runtimeFile(root), '{"version": 1')
    const found = readRuntimeState(root)
    expect(found.kind === 'stale' && found.why).toMatch(/^is not valid JSON/)
    fs.writeFileSync(runtimeFile(root), '{"version": 7}')
    expect(readRuntimeState(root)).toMatchObject({ kind: 'stale', why: 'is not a version 1 runtime file' })
  })

  it('is removed by its own launcher only', () => {
    writeRuntimeState(root, state({ pid: process.pid }))
    removeRuntimeState(root, process.pid + 1)
    expect(fs.existsSync(runtimeFile(root))).toBe(true)
    removeRuntimeState(root, process.pid)
    expect(fs.existsSync(runtimeFile(root))).toBe(false)
    removeRuntimeState(root) // already gone: nothing to do
  })
})
