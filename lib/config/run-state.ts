// The runtime file of a running `gateway start`: <root>/var/run/gateway.json says
// which Redis the gateway uses (possibly a private one on a random port, or none
// at all in standalone mode) and where its instances listen, so every other
// `gateway` command reaches the gateway that runs now without any flag.
//
// Owner-only (0600 in a 0700 folder): the Redis URL may carry a password.
// Written atomically (temporary file, fsync, rename): a reader never sees half a
// file. The launcher removes it when it exits; a file whose launcher is gone (a
// kill -9, a crash, a reboot) is "stale" and readers ignore it.

import fs from 'node:fs'
import path from 'node:path'

import type { InstanceName } from './paths'

export const RUNTIME_FILE_VERSION = 1

export type RedisMode = 'external' | 'private' | 'standalone'

export interface RuntimeState {
  readonly version: typeof RUNTIME_FILE_VERSION
  /** The launcher's pid. */
  readonly pid: number
  /** The launcher's start time in clock ticks since boot (/proc/PID/stat): a reused pid does not pass for it. */
  readonly pidStart: string | null
  readonly startedAt: string
  /** "starting" until both instances listen. */
  readonly status: 'starting' | 'running'
  readonly redis: {
    readonly mode: RedisMode
    /** The URL the instances use; in standalone mode the configured one they keep trying. */
    readonly url: string
    readonly prefix: string
  }
  readonly instances: Readonly<Record<InstanceName, { readonly listen: readonly string[]; readonly pid: number | null }>>
  /** Where the inbound instance delivers, in order (after environment overrides). */
  readonly internalHosts: readonly string[]
  readonly demoMailbox: string | null
}

export type RuntimeLookup =
  | { readonly kind: 'running'; readonly file: string; readonly state: RuntimeState }
  /** A file is there but its launcher is not (or it cannot be read): ignored. */
  | { readonly kind: 'stale'; readonly file: string; readonly why: string }
  | { readonly kind: 'none'; readonly file: string }

export function runtimeFile(root: string): string {
  return path.join(root, 'var', 'run', 'gateway.json')
}

/** Start time of a process (field 22 of /proc/PID/stat), or null where there is no /proc. */
export function processStart(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null
  } catch {
    return null
  }
}

function alive(pid: number, pidStart: string | null): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false // EPERM: alive, someone else's
  }
  if (pidStart === null) return true
  const now = processStart(pid)
  return now === null || now === pidStart
}

export function writeRuntimeState(root: string, state: RuntimeState): void {
  const file = runtimeFile(root)
  const dir = path.dirname(file)
  // var/ itself keeps the default mode: the private rspamd runs as _rspamd and must traverse it
  fs.mkdirSync(path.dirname(dir), { recursive: true })
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  fs.chmodSync(dir, 0o700) // created earlier with a wider mode: narrow it
  const tmp = path.join(dir, `.gateway.json.${process.pid}.tmp`)
  const fd = fs.openSync(tmp, 'w', 0o600)
  try {
    fs.fchmodSync(fd, 0o600) // a leftover temporary file keeps its old mode otherwise
    fs.writeSync(fd, `${JSON.stringify(state, null, 2)}\n`)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
}

/** Removes the file if it is this process's (a second launcher's file is not ours to delete). */
export function removeRuntimeState(root: string, pid = process.pid): void {
  const file = runtimeFile(root)
  try {
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<RuntimeState>
    if (state.pid === pid) fs.rmSync(file, { force: true })
  } catch {
    // gone already, or not ours to judge
  }
}

export function readRuntimeState(root: string): RuntimeLookup {
  const file = runtimeFile(root)
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none', file }
    return { kind: 'stale', file, why: `cannot be read (${(err as Error).message})` }
  }
  let state: RuntimeState
  try {
    state = JSON.parse(text) as RuntimeState
  } catch (err) {
    return { kind: 'stale', file, why: `is not valid JSON (${(err as Error).message})` }
  }
  if (state?.version !== RUNTIME_FILE_VERSION || !Number.isInteger(state.pid) || typeof state.redis?.url !== 'string') {
    return { kind: 'stale', file, why: `is not a version ${RUNTIME_FILE_VERSION} runtime file` }
  }
  if (!alive(state.pid, state.pidStart ?? null)) return { kind: 'stale', file, why: `is stale: its launcher (pid ${state.pid}, started ${state.startedAt}) is not running` }
  return { kind: 'running', file, state }
}
