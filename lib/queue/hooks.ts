// Registers Haraka's delivery-queue hooks (send_email, deferred, bounce,
// delivered), which lib/plugin/define.ts does not cover, with the same guarantee:
// `next` is settled exactly once, a throw or a rejection never escapes (it would
// fail open or kill the process), and a hook that overruns its time gets the
// hook's declared failure result instead of Haraka's 30 s timeout, whose DENYSOFT
// these hooks would treat as "carry on".

import * as constants from 'haraka-constants'

/** What a queue hook decides. */
export type QueueVerdict =
  /** Let the next plugin (then Haraka) carry on. */
  | { readonly kind: 'cont' }
  /** send_email: try again in `seconds`, without counting an attempt. */
  | { readonly kind: 'delay'; readonly seconds: number }
  /** deferred: do not re-queue, delete the message. bounce: send no DSN. */
  | { readonly kind: 'drop' }

export type QueueHookName = 'send_email' | 'deferred' | 'bounce' | 'delivered'

export interface QueueHook<P> {
  readonly hook: QueueHookName
  readonly run: (hmail: Haraka.QueuedMail, params: P) => QueueVerdict | Promise<QueueVerdict>
  /** Used when `run` throws, rejects or overruns: say what is safe for this hook. */
  readonly onFailure: QueueVerdict
  readonly timeoutMs?: number
}

export const CONT: QueueVerdict = { kind: 'cont' }
export const DROP: QueueVerdict = { kind: 'drop' }
export function delay(seconds: number): QueueVerdict {
  return { kind: 'delay', seconds: Math.max(1, Math.ceil(seconds)) }
}

export function registerQueueHook<P>(plugin: Haraka.Plugin, spec: QueueHook<P>): void {
  const method = `gateway_queue_${spec.hook}`
  const timeoutMs = spec.timeoutMs ?? 10_000
  plugin[method] = (next: Haraka.Next, hmail: Haraka.QueuedMail, params: P) => {
    let settled = false
    const settle = (v: QueueVerdict) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      callNext(next, spec.hook, v)
    }
    const fail = (why: string) => {
      if (settled) return
      hmail.logerror(plugin, `hook ${spec.hook} ${why}`)
      settle(spec.onFailure)
    }
    const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs)
    try {
      Promise.resolve(spec.run(hmail, params)).then(settle, (err: unknown) => fail(`failed: ${describe(err)}`))
    } catch (err) {
      fail(`failed: ${describe(err)}`)
    }
  }
  plugin.register_hook(spec.hook, method)
}

function callNext(next: Haraka.Next, hook: QueueHookName, v: QueueVerdict): void {
  switch (v.kind) {
    case 'cont':
      return next()
    case 'delay':
      // only send_email knows DELAY; anywhere else it would be read as "discard"
      // as a string: Haraka logs the message of every non-CONT result and complains about a number
      return hook === 'send_email' ? next(constants.delay, String(v.seconds)) : next()
    case 'drop':
      // deferred_respond and bounce_respond treat anything but CONT (and DENYSOFT) as "discard"
      return next(constants.ok)
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err)
}
