// `gateway queue list|flush|delete|hold|release|held`: the administrator's view of
// an instance's delivery queue (default outbound; --instance inbound for mail
// waiting for the internal servers). Reads Haraka's queue files directly; asks
// the running instance to retry with SIGHUP; holds and single-domain flushes are
// carried out by the gateway-queue plugin through <instance>/queue-control/.
// The plugin re-reads that folder on a change event or within RECHECK_MS: hold,
// release and delete wait that long, so when they return (delete: before it removes
// the file) the change is in force in every running process (cluster workers, and
// nodes sharing the folder).

import fs from 'node:fs'
import path from 'node:path'

import { RECHECK_MS } from '../lib/config/changed-file'
import { readList } from '../lib/config/ini'
import { instanceDir, type InstanceName } from '../lib/config/paths'
import { parseDomainName } from '../lib/address/domain'
import { QueueControl, queueDir } from '../lib/queue/control'
import { findInstanceProcesses } from '../lib/queue/process'
import { listQueue } from '../lib/queue/qfile'

const USAGE = `usage: gateway queue [--instance outbound|inbound] <action>
  list              queued messages: id, domain, age, attempts, next attempt, last error, sender, recipients
  flush [DOMAIN]    retry now (all mail, or one domain's); the instance must be running
  delete ID         remove a queued message: it is never delivered and no DSN is sent
  hold DOMAIN       do not attempt a domain's mail until released
  release DOMAIN    end a hold (tried at the next retry, or now with flush DOMAIN)
  held              list held domains`

export async function queueCommand(args: string[]): Promise<number> {
  let instance: InstanceName = 'outbound'
  const rest: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const value = a === '--instance' ? args[++i] : a.startsWith('--instance=') ? a.slice('--instance='.length) : undefined
    if (value === undefined && a.startsWith('--instance')) return usage('--instance needs inbound or outbound')
    if (value !== undefined) {
      if (value !== 'inbound' && value !== 'outbound') return usage(`unknown instance "${value}" (inbound or outbound)`)
      instance = value
    } else rest.push(a)
  }
  const [action, arg, extra] = rest
  if (extra !== undefined) return usage(`unexpected argument "${extra}"`)
  const dir = instanceDir(instance)
  const q = new Queue(instance, dir)
  switch (action) {
    case 'list':
      return arg === undefined ? q.list() : usage('list takes no argument')
    case 'flush':
      return q.flush(arg)
    case 'delete':
      return arg ? q.delete(arg) : usage('delete needs a message ID (see gateway queue list)')
    case 'hold':
    case 'release':
      return arg ? q.hold(arg, action === 'hold') : usage(`${action} needs a domain`)
    case 'held':
      return arg === undefined ? q.held() : usage('held takes no argument')
    default:
      return usage(action === undefined ? undefined : `unknown action "${action}"`)
  }
}

function usage(problem?: string): number {
  if (problem) console.error(`gateway queue: ${problem}`)
  console.error(USAGE)
  return 64
}

class Queue {
  private readonly control: QueueControl
  private readonly queueDir: string

  constructor(
    private readonly instance: InstanceName,
    private readonly dir: string,
  ) {
    this.control = new QueueControl(dir)
    this.queueDir = queueDir(dir)
  }

  list(): number {
    const held = this.control.heldDomains()
    const now = Date.now()
    console.log(['id', 'domain', 'age', 'attempts', 'next', 'last_error', 'from', 'to'].join('\t'))
    for (const m of listQueue(this.queueDir)) {
      const domain = m.todo?.domain ?? '?'
      const next = held.has(domain) ? 'held' : m.name.nextAttempt <= now ? 'now' : `in ${duration(m.name.nextAttempt - now)}`
      const lastError = m.error ? `unreadable queue file: ${m.error}` : (this.control.lastError(m.id)?.error ?? '')
      const from = m.todo ? m.todo.mailFrom || '<>' : '?'
      console.log([m.id, domain, duration(now - m.name.arrival), m.name.attempts, next, oneLine(lastError), from, m.todo?.rcptTo.join(',') ?? '?'].join('\t'))
    }
    return 0
  }

  flush(domainArg: string | undefined): number {
    const domain = domainArg === undefined ? undefined : parseDomain(domainArg)
    if (domain === null) return 64
    const pids = findInstanceProcesses(this.dir)
    if (pids.length === 0) {
      console.error(`gateway queue: the ${this.instance} instance is not running (no "haraka -c ${this.dir}" process); queued mail is tried when it starts`)
      return 1
    }
    if (domain) {
      if (!listQueue(this.queueDir).some((m) => m.todo?.domain === domain)) {
        console.log(`nothing queued for ${domain}`)
        return 0
      }
      if (this.control.heldDomains().has(domain)) console.error(`gateway queue: ${domain} is held: it stays queued until "gateway queue release ${domain}"`)
      this.control.requestScopedFlush(domain)
    } else {
      this.control.clearScopedFlush()
    }
    for (const pid of pids) process.kill(pid, 'SIGHUP')
    console.log(`retrying ${domain ? `mail for ${domain}` : 'all queued mail'} now (${this.instance}, pid ${pids.join(',')})`)
    return 0
  }

  async delete(id: string): Promise<number> {
    if (listQueue(this.queueDir).some((m) => m.id === id)) {
      // said before the file goes, and seen by the running instance (folder watch, or its
      // check once a second) before it can miss the file: it then drops the message
      this.control.recordDeleted(id)
      if (findInstanceProcesses(this.dir).length > 0) await new Promise((resolve) => setTimeout(resolve, RECHECK_MS + 500))
    }
    // Haraka renames a file after each attempt: look again if it moved under us
    for (let tries = 0; tries < 3; tries++) {
      const matches = listQueue(this.queueDir).filter((m) => m.id === id)
      if (matches.length === 0) break
      try {
        for (const m of matches) fs.rmSync(m.file)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue
        throw err
      }
      this.control.forgetErrorSync(id)
      const m = matches[0]!
      console.log(`deleted ${id} (${m.todo?.domain ?? '?'}: ${m.todo?.rcptTo.join(',') ?? '?'})`)
      return 0
    }
    console.error(`gateway queue: no queued message ${id} in ${this.queueDir} (delivered, bounced or never there: see gateway queue list)`)
    return 1
  }

  async hold(domainArg: string, hold: boolean): Promise<number> {
    const domain = parseDomain(domainArg)
    if (domain === null) return 64
    if (!this.pluginLoaded()) {
      console.error(
        `gateway queue: the ${this.instance} instance does not load gateway-queue (${path.join(this.dir, 'config', 'plugins')}), so a hold would have no effect`,
      )
      return 1
    }
    const changed = this.control.setHeld(domain, hold)
    // a running instance sees the change by its next check at the latest (plus slack for a busy machine)
    if (changed && findInstanceProcesses(this.dir).length > 0) await new Promise((resolve) => setTimeout(resolve, RECHECK_MS + 500))
    const queued = listQueue(this.queueDir).filter((m) => m.todo?.domain === domain).length
    if (hold) console.log(`${changed ? 'holding' : 'already holding'} ${domain} (${queued} queued): not attempted until "gateway queue release ${domain}"`)
    else console.log(`${changed ? 'released' : 'was not held:'} ${domain} (${queued} queued): tried at the next retry, or now with "gateway queue flush ${domain}"`)
    return 0
  }

  held(): number {
    for (const d of [...this.control.heldDomains()].sort()) console.log(d)
    return 0
  }

  private pluginLoaded(): boolean {
    const file = path.join(this.dir, 'config', 'plugins')
    return readList(file).some((e) => e.value.replace(/^haraka-plugin-/, '') === 'gateway-queue')
  }
}

function parseDomain(text: string): string | null {
  try {
    return parseDomainName(text)
  } catch (err) {
    console.error(`gateway queue: ${(err as Error).message}`)
    return null
  }
}

/** 90061000 -> "1d1h1m": coarse on purpose, queue ages are read by people. */
export function duration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000))
  const parts: string[] = []
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`)
      s %= size
    }
  }
  if (parts.length < 2 && (s > 0 || parts.length === 0)) parts.push(`${s}s`)
  return parts.slice(0, 2).join('')
}

function oneLine(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ').trim()
}

