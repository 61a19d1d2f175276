// The inbound instance's side of `gateway quarantine release` (started by the
// gateway-queue plugin). It takes release requests from
// <instance>/queue-control/release/ and puts each message into the instance's own
// delivery queue with Haraka's send_trans_email, exactly as gateway-spool queues
// accepted mail: so a released message is delivered like any other (failover
// across the internal servers, retries while they are down, TLS as configured,
// visible in `gateway queue list --instance inbound`). The message leaves the
// quarantine only after Haraka reported it queued; otherwise it stays and the
// command is told why. The bytes queued are the stored message plus one
// X-Gateway-Released line, checked by reading the transaction back before queueing
// (Haraka's queue then treats it like any message: it adds Message-ID and Date
// only where missing, and Received only if outbound.ini asks for one).

import cluster from 'node:cluster'
import crypto from 'node:crypto'
import fs from 'node:fs'
import { Writable } from 'node:stream'

import * as constants from 'haraka-constants'

import { outboundModule, transactionModule, type BuiltTransaction, type TransactionModule } from '../haraka'
import { listQueue } from '../queue/qfile'
import { freeBytes, roomFor } from '../queue/free-space'
import { ReleaseRequests, releaseRequestDir, type ReleaseAnswer, type ReleaseRequest } from './release-requests'
import { quarantineDir, spoolSettings } from './settings'
import { QuarantineStore, type Held } from './store'
import { dataLines, releasedHeader } from './wire'
import { trackRelease, trackReleasing } from '../tracking/emit'
import { countReleased } from '../stats/decisions'

// the package is an ES module to TypeScript; Haraka itself require()s its CommonJS build
const { Address } = require('@haraka/email-address') as { Address: new (text: string) => Haraka.Address }

export type { TransactionModule } from '../haraka'
export type ReleaseTransaction = BuiltTransaction

export interface ReleaseService {
  stop(): void
}

/** How often the folder is read when no change notification arrives (fs.watch can miss events). */
const POLL_MS = 1000
/** Answers and taken requests no command waits for any more. */
const STALE_MS = 60 * 60 * 1000

export function serveQuarantineReleases(plugin: Haraka.Plugin, instanceDir: string, queueDir: string): ReleaseService {
  const store = new QuarantineStore(quarantineDir(instanceDir))
  const releaser = new Releaser({
    store,
    outbound: outboundModule(plugin),
    transactions: transactionModule(plugin),
    queueDir,
    reserveBytes: spoolSettings(instanceDir).queue.min_free_mb * 1024 * 1024,
    log: plugin,
  })
  const requests = new ReleaseRequests(releaseRequestDir(instanceDir))

  // Releases interrupted by a stop are settled once, by the process that starts
  // first (at plugin registration: before it, or a cluster's workers, accept mail),
  // and before any new request is taken.
  const recovered = cluster.isPrimary ? settleInterruptedReleases(store, queueDir, plugin, requests) : Promise.resolve()

  // Requests are carried out where mail is queued and delivered: the one process,
  // or each worker of a cluster (taking a request is a rename: one worker gets it).
  const nodes = (plugin.config.get('smtp.ini') as { main?: { nodes?: unknown } }).main?.nodes
  if (cluster.isPrimary && (nodes === undefined || Boolean(nodes))) return { stop() {} }

  fs.mkdirSync(requests.dir, { recursive: true })
  let again = false
  let running: Promise<void> | undefined
  const kick = (): void => {
    again = true
    if (running) return
    running = (async () => {
      await recovered
      while (again) {
        again = false
        for (const { nonce, request } of await requests.takePending()) {
          const answer = request ? await releaser.release(request) : ({ ok: false, gone: false, error: 'unreadable release request' } as const)
          await requests.answer(nonce, answer).catch((err: unknown) => plugin.logerror(`answering release request ${nonce} failed: ${describe(err)}`))
        }
      }
    })()
      .catch((err: unknown) => plugin.logerror(`reading release requests in ${requests.dir} failed: ${describe(err)}`))
      .finally(() => {
        running = undefined
      })
  }
  let watcher: fs.FSWatcher | undefined
  try {
    watcher = fs.watch(requests.dir, kick)
    watcher.on('error', (err) => plugin.logwarn(`watching ${requests.dir} failed (${describe(err)}): reading it every ${POLL_MS} ms`))
    watcher.unref()
  } catch (err) {
    plugin.logwarn(`watching ${requests.dir} failed (${describe(err)}): reading it every ${POLL_MS} ms`)
  }
  const poll = setInterval(kick, POLL_MS)
  poll.unref()
  kick()
  return {
    stop() {
      clearInterval(poll)
      watcher?.close()
    },
  }
}

export interface ReleaserDeps {
  store: QuarantineStore
  outbound: Haraka.Outbound
  transactions: TransactionModule
  queueDir: string
  /** gateway-spool.ini [queue] min_free_mb: a release must not fill the disk either. */
  reserveBytes: number
  log: Logger
}

type Logger = Pick<Haraka.Plugin, 'lognotice' | 'logwarn' | 'logerror'>

export class Releaser {
  constructor(private readonly d: ReleaserDeps) {}

  /** Puts one quarantined message into the delivery queue; never throws. */
  async release(request: ReleaseRequest): Promise<ReleaseAnswer> {
    const { store, log } = this.d
    let held: Held | undefined
    try {
      held = store.claim(request.id)
    } catch (err) {
      return { ok: false, gone: false, error: `reading ${request.id} from ${store.dir} failed: ${describe(err)}` }
    }
    if (!held) return { ok: false, gone: true, error: `no quarantined message ${request.id} (released or deleted meanwhile)` }
    const uuid = crypto.randomUUID().toUpperCase()
    try {
      await this.enqueue(request, held, uuid)
    } catch (err) {
      const why = err instanceof ReleaseRefused ? err.message : describe(err)
      log.logerror(`release of ${request.id} failed, it stays quarantined: ${why}`)
      try {
        await store.restore(request.id)
      } catch (restoreErr) {
        // not in the queue: settleInterruptedReleases puts it back at the next start
        log.logerror(`putting ${request.id} back into the quarantine failed: ${describe(restoreErr)}`)
        return { ok: false, gone: false, error: `${why} (and it is listed again only after the inbound instance restarts: ${describe(restoreErr)})` }
      }
      return { ok: false, gone: false, error: why }
    }
    try {
      await store.finishRelease(request.id)
    } catch (err) {
      // queued: the next start sees the queue file and removes the quarantine copy
      log.logerror(`${request.id} is queued (${uuid}) but removing it from ${store.dir} failed: ${describe(err)}`)
    }
    log.lognotice(`released ${request.id} from the quarantine into the delivery queue as ${uuid} (asked by ${request.by})`)
    return { ok: true, uuid }
  }

  private async enqueue(request: ReleaseRequest, held: Held, uuid: string): Promise<void> {
    const { entry, message } = held
    const free = await freeBytes(this.d.queueDir)
    if (!roomFor(free, message.length, this.d.reserveBytes)) {
      throw new ReleaseRefused(`not enough free space in ${this.d.queueDir} (${Math.floor(free / 1048576)} MiB free, reserve ${this.d.reserveBytes / 1048576} MiB)`)
    }
    const expected = Buffer.concat([Buffer.from(releasedHeader(entry, request.by, new Date())), message])
    const lines = dataLines(expected)
    // no header-line cap (the stored header may exceed connection.ini's), never spooled to /tmp (it is in memory already)
    const txn = this.d.transactions.createTransaction(uuid, { main: { spool_after: -1 }, headers: { max_lines: lines.length + 1 } })
    try {
      txn.mail_from = new Address(`<${entry.from}>`)
      txn.rcpt_to = entry.to.map((to) => new Address(`<${to}>`))
    } catch (err) {
      throw new ReleaseRefused(`the stored envelope does not parse: ${describe(err)}`)
    }
    if (txn.rcpt_to.length === 0) throw new ReleaseRefused('the stored envelope has no recipient')
    const streamErrors = txn.message_stream as unknown as NodeJS.EventEmitter
    let streamError: unknown
    streamErrors.on('error', (err: unknown) => (streamError = err))
    for (const line of lines) txn.add_data(line)
    await new Promise<void>((resolve) => txn.end_data(resolve))
    const readBack = await readMessage(txn)
    if (streamError) throw streamError
    if (!readBack.equals(expected)) {
      throw new ReleaseRefused(`Haraka would not queue it byte for byte (${difference(readBack, expected)}); see it with "gateway quarantine show ${entry.id}"`)
    }
    await this.d.store.markReleasing(entry.id, { uuid, at: new Date().toISOString(), by: request.by })
    const tracked = { entry, by: request.by, txn }
    trackReleasing(tracked) // delivery events of the queued copy belong to the quarantined message's record
    await new Promise<void>((resolve, reject) => {
      this.d.outbound.send_trans_email(txn, (code, msg) => {
        if (code === constants.ok) {
          trackRelease(tracked)
          countReleased()
          resolve()
        } else reject(new ReleaseRefused(`the delivery queue did not take it: ${String(msg ?? constants.translate(code))} (details in the inbound log)`))
      })
    })
  }
}

/**
 * Settles releases a stop interrupted: a message whose transaction is in the
 * queue leaves the quarantine; any other is quarantined again. Never throws.
 */
export async function settleInterruptedReleases(store: QuarantineStore, queueDir: string, log: Logger, requests?: ReleaseRequests): Promise<void> {
  try {
    // synchronous, so it runs before this process accepts mail (a quarantine write in progress looks like an orphan)
    for (const id of store.removeOrphans()) log.lognotice(`removed ${id}.eml from ${store.dir}: a stop left it without its metadata`)
    const interrupted = store.interrupted()
    await requests?.prune(STALE_MS)
    if (interrupted.length === 0) return
    const queued = listQueue(queueDir).map((m) => m.todo?.uuid ?? '')
    for (const { id, mark } of interrupted) {
      if (mark && queued.some((u) => u.startsWith(`${mark.uuid}.`))) {
        await store.finishRelease(id)
        log.lognotice(`release of ${id} (${mark.uuid}) was interrupted after it was queued: removed from the quarantine`)
      } else {
        await store.restore(id)
        log.logwarn(
          mark
            ? `release of ${id} was interrupted and ${mark.uuid} is not in the queue: quarantined again (if the internal server received ${mark.uuid} before the stop, releasing it again delivers it twice)`
            : `release of ${id} was interrupted before it was queued: quarantined again`,
        )
      }
    }
  } catch (err) {
    log.logerror(`settling interrupted releases in ${store.dir} failed: ${describe(err)}`)
  }
}

/** A release refused for a reason worth telling the administrator as is. */
class ReleaseRefused extends Error {}

/** The transaction's message as a mail client sees it (dot-stuffing removed). */
export function readMessage(txn: ReleaseTransaction): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk)
        cb()
      },
      final(cb) {
        resolve(Buffer.concat(chunks))
        cb()
      },
    })
    sink.on('error', reject)
    txn.message_stream.pipe(sink)
  })
}

function difference(got: Buffer, want: Buffer): string {
  let i = 0
  while (i < got.length && i < want.length && got[i] === want[i]) i++
  const line = want.subarray(0, i).toString('utf8').split('\n').length
  return `${got.length} bytes instead of ${want.length}, first difference in line ${line}`
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
