// `gateway quarantine list|show|release|delete`: the administrator's view of the
// inbound quarantine. Release asks the running inbound instance to put the
// message, unchanged but for one X-Gateway-Released header, into its delivery
// queue (lib/quarantine/release-service.ts): it is then delivered to the internal
// servers like any accepted message, with failover, retries and TLS. The message
// leaves the quarantine only once it is queued. The quarantine is a folder of the
// deployment (GATEWAY_ROOT), like the runtime file.

import os from 'node:os'
import path from 'node:path'

import { readList } from '../lib/config/ini'
import { instanceDir } from '../lib/config/paths'
import { ReleaseRequests, releaseRequestDir } from '../lib/quarantine/release-requests'
import { quarantineDir } from '../lib/quarantine/settings'
import { QuarantineStore } from '../lib/quarantine/store'
import { queueDir } from '../lib/queue/control'
import { findInstanceProcesses } from '../lib/queue/process'
import { listQueue } from '../lib/queue/qfile'

const USAGE = 'usage: gateway quarantine list | show ID | release ID | delete ID'

/** How long the running instance has to take a request before it is withdrawn (it polls its folder every second). */
const TAKE_MS = 15_000
/** How long a taken request may take to be answered (queueing a large message on a slow disk). */
const ANSWER_MS = 120_000

/** Sender-controlled text shown to the administrator: control characters (terminal escapes, tabs) made visible. */
function printable(text: string, keepNewlines = false): string {
  const controls = keepNewlines ? /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g : /[\x00-\x1f\x7f]/g
  return text.replace(controls, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

export async function quarantineCommand(args: string[]): Promise<number> {
  const [action, id] = args
  const store = new QuarantineStore(quarantineDir(instanceDir('inbound')))
  if (action === 'list') {
    console.log(['id', 'quarantined', 'check', 'result', 'from', 'to', 'size', 'subject'].join('\t'))
    for (const e of store.list()) console.log([e.id, e.at, e.check, e.result, e.from || '<>', e.to.join(','), e.size, e.subject].map((v) => printable(String(v))).join('\t'))
    return 0
  }
  if (!id || !['show', 'release', 'delete'].includes(action ?? '')) {
    console.error(USAGE)
    return 64
  }
  const held = store.get(id)
  if (!held) {
    console.error(`gateway: no quarantined message ${id} in ${store.dir}`)
    return 1
  }
  if (action === 'show') {
    console.log(JSON.stringify(held.entry, null, 2))
    console.log(printable(held.message.toString('utf8'), true))
    return 0
  }
  if (action === 'delete') {
    if (!store.delete(id)) {
      console.error(`gateway: no quarantined message ${id} in ${store.dir} (released or deleted meanwhile)`)
      return 1
    }
    console.log(`deleted ${id}`)
    return 0
  }
  return release(id)
}

/**
 * Hands the release to the running inbound instance and reports its answer.
 * Exit 0 queued; 1 no such message (any more); 69 no running instance took the
 * request (nothing happened); 75 not queued (it stays quarantined) or outcome unknown.
 */
async function release(id: string): Promise<number> {
  const dir = instanceDir('inbound')
  const stays = 'the message stays quarantined'
  const plugins = path.join(dir, 'config', 'plugins')
  if (!readList(plugins).some((e) => e.value.replace(/^haraka-plugin-/, '') === 'gateway-queue')) {
    console.error(`gateway: the inbound instance does not load gateway-queue (${plugins}), which carries out releases; ${stays}`)
    return 69
  }
  if (findInstanceProcesses(dir).length === 0) {
    console.error(`gateway: the inbound instance is not running (no "haraka -c ${dir}" process), and it carries out releases; ${stays}`)
    return 69
  }
  const requests = new ReleaseRequests(releaseRequestDir(dir))
  const nonce = requests.submit({ id, by: os.userInfo().username, at: new Date().toISOString() })
  const wait = await requests.await(nonce, { takeMs: TAKE_MS, answerMs: ANSWER_MS })
  switch (wait.kind) {
    case 'not-taken':
      console.error(`gateway: the running inbound instance did not take the release request within ${TAKE_MS / 1000} s (its log may say why); ${stays}`)
      return 69
    case 'no-answer':
      console.error(
        `gateway: the inbound instance took the release of ${id} but did not answer within ${ANSWER_MS / 1000} s; ` +
          `see "gateway quarantine list" and "gateway queue list --instance inbound" for where it is`,
      )
      return 75
    case 'answered': {
      const a = wait.answer
      if (a.ok) {
        const queued = listQueue(queueDir(dir)).filter((m) => m.todo?.uuid.startsWith(`${a.uuid}.`))
        if (queued.length > 0) console.log(`released ${id}: in the inbound delivery queue as ${queued.map((m) => m.id).join(',')} (see gateway queue list --instance inbound)`)
        else console.log(`released ${id}: queued, and already out of the queue (delivered, or refused by the internal server: transaction ${a.uuid} in the inbound log)`)
        return 0
      }
      if (a.gone) {
        console.error(`gateway: ${a.error}`)
        return 1
      }
      console.error(`gateway: release of ${id} failed: ${a.error}; ${stays}`)
      return 75
    }
  }
}
