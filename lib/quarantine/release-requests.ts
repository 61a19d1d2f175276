// Release requests: how `gateway quarantine release` asks the running inbound
// instance to put a quarantined message into its delivery queue, and learns the
// outcome. A folder of small files beside the queue's other controls
// (<instance>/queue-control/release/), each written under a temporary name and
// renamed into place:
//   <nonce>.request  the command's request (id, who, when)
//   <nonce>.taken    the instance took it (a rename: one taker, and a request
//                    can be withdrawn only while nobody has taken it)
//   <nonce>.result   the instance's answer, read and removed by the command

import crypto from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import path from 'node:path'

import { controlDir } from '../queue/control'

export interface ReleaseRequest {
  /** The quarantine id. */
  readonly id: string
  /** Who asked (recorded in X-Gateway-Released). */
  readonly by: string
  /** ISO time of the request. */
  readonly at: string
}

export type ReleaseAnswer =
  /** In the delivery queue under transaction `uuid`, and gone from the quarantine. */
  | { readonly ok: true; readonly uuid: string }
  /** Not released. `gone`: no such message in the quarantine (any more); otherwise it stays quarantined. */
  | { readonly ok: false; readonly gone: boolean; readonly error: string }

export type ReleaseWait =
  | { readonly kind: 'answered'; readonly answer: ReleaseAnswer }
  /** Nobody took the request in time; it was withdrawn, so nothing will happen. */
  | { readonly kind: 'not-taken' }
  /** Taken but not answered in time: the outcome is unknown to the command. */
  | { readonly kind: 'no-answer' }

const NONCE = /^[a-z0-9]+-[0-9a-f]{16}$/

export function releaseRequestDir(instanceDir: string): string {
  return path.join(controlDir(instanceDir), 'release')
}

export class ReleaseRequests {
  constructor(readonly dir: string) {}

  // ---- the command's side ----

  /** Files a request; returns its nonce. */
  submit(request: ReleaseRequest): string {
    fs.mkdirSync(this.dir, { recursive: true })
    const nonce = `${Date.now().toString(36)}-${crypto.randomBytes(8).toString('hex')}`
    writeAtomicSync(this.file(nonce, 'request'), JSON.stringify(request))
    return nonce
  }

  /** Takes the request back unless the instance took it already; true if withdrawn. */
  withdraw(nonce: string): boolean {
    try {
      fs.rmSync(this.file(nonce, 'request'))
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw err
    }
  }

  /** The instance's answer, removed once read; undefined while there is none. */
  takeAnswer(nonce: string): ReleaseAnswer | undefined {
    const file = this.file(nonce, 'result')
    let text: string
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
    fs.rmSync(file, { force: true })
    return parseAnswer(text)
  }

  /**
   * Waits for the answer. A request nobody takes within `takeMs` is withdrawn
   * (so it can never be carried out later); a taken one is waited for until `answerMs`.
   */
  async await(nonce: string, opts: { takeMs: number; answerMs: number; pollMs?: number }): Promise<ReleaseWait> {
    const start = Date.now()
    let taken = false
    for (;;) {
      const answer = this.takeAnswer(nonce)
      if (answer) return { kind: 'answered', answer }
      const waited = Date.now() - start
      if (!taken && waited >= opts.takeMs) {
        if (this.withdraw(nonce)) return { kind: 'not-taken' }
        taken = true
      }
      if (waited >= opts.answerMs) return { kind: 'no-answer' }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 50))
    }
  }

  // ---- the instance's side ----

  /** Takes every pending request (renaming it: another process cannot take it too). */
  async takePending(): Promise<{ nonce: string; request: ReleaseRequest | undefined }[]> {
    let names: string[]
    try {
      names = await fsp.readdir(this.dir)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const out: { nonce: string; request: ReleaseRequest | undefined }[] = []
    for (const name of names.sort()) {
      const nonce = name.replace(/\.request$/, '')
      if (!name.endsWith('.request') || !NONCE.test(nonce)) continue
      try {
        await fsp.rename(this.file(nonce, 'request'), this.file(nonce, 'taken'))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue // withdrawn, or taken by another process
        throw err
      }
      // unreadable: answered as such, so the command does not wait in vain
      out.push({ nonce, request: parseRequest(await fsp.readFile(this.file(nonce, 'taken'), 'utf8').catch(() => '')) })
    }
    return out
  }

  async answer(nonce: string, answer: ReleaseAnswer): Promise<void> {
    const file = this.file(nonce, 'result')
    const tmp = path.join(this.dir, `.${nonce}.${process.pid}.tmp`)
    await fsp.writeFile(tmp, JSON.stringify(answer))
    await fsp.rename(tmp, file)
    await fsp.rm(this.file(nonce, 'taken'), { force: true })
  }

  /** Removes what no command will read any more: answers, taken requests and temporary files older than `maxAgeMs`. */
  async prune(maxAgeMs: number, now = Date.now()): Promise<number> {
    let names: string[]
    try {
      names = await fsp.readdir(this.dir)
    } catch {
      return 0
    }
    let removed = 0
    for (const name of names) {
      if (!/\.(result|taken|tmp)$/.test(name)) continue
      const file = path.join(this.dir, name)
      try {
        if (now - (await fsp.stat(file)).mtimeMs > maxAgeMs) {
          await fsp.rm(file, { force: true })
          removed++
        }
      } catch {
        // gone meanwhile
      }
    }
    return removed
  }

  private file(nonce: string, kind: 'request' | 'taken' | 'result'): string {
    if (!NONCE.test(nonce)) throw new Error(`invalid release request ${JSON.stringify(nonce)}`)
    return path.join(this.dir, `${nonce}.${kind}`)
  }
}

function parseRequest(text: string): ReleaseRequest | undefined {
  try {
    const r = JSON.parse(text) as Partial<ReleaseRequest>
    if (typeof r.id === 'string' && typeof r.by === 'string' && typeof r.at === 'string') return { id: r.id, by: r.by, at: r.at }
  } catch {
    // answered as unreadable below
  }
  return undefined
}

function parseAnswer(text: string): ReleaseAnswer {
  try {
    const a = JSON.parse(text) as { ok?: unknown; uuid?: unknown; gone?: unknown; error?: unknown }
    if (a.ok === true && typeof a.uuid === 'string') return { ok: true, uuid: a.uuid }
    if (a.ok === false && typeof a.error === 'string') return { ok: false, gone: a.gone === true, error: a.error }
  } catch {
    // below
  }
  return { ok: false, gone: false, error: `unreadable answer from the inbound instance: ${JSON.stringify(text.slice(0, 200))}` }
}

function writeAtomicSync(file: string, content: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
  fs.writeFileSync(tmp, content)
  fs.renameSync(tmp, file)
}
