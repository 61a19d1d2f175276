// Settles one hook call exactly once, whatever the handler does: returns, throws,
// rejects, never finishes, or returns something Haraka cannot take. The one
// implementation behind every hook of every gateway plugin (define.ts).

export interface HookRun {
  readonly plugin: { readonly name: string }
  readonly hook: string
  /** Logs against the connection or queued message, so the line carries its id. */
  readonly log: { logerror(...args: unknown[]): void }
  readonly timeoutMs: number
  /** Calls the handler. */
  readonly call: () => unknown
  /** Why the handler's result is unusable, or undefined. */
  readonly invalid: (value: unknown) => string | undefined
  /** Hands the result to Haraka (calls next). */
  readonly done: (value: unknown) => void
  /** Hands the failure answer to Haraka (calls next); `why` is already logged. */
  readonly failed: (why: string) => void
}

export function runHook(run: HookRun): void {
  const { plugin, hook, log } = run
  let settled = false
  const finish = (handOver: () => void) => {
    if (settled) return
    settled = true
    clearTimeout(timer)
    try {
      handOver()
    } catch (err) {
      // Haraka continues the session inside next(): a throw there must not become an
      // unhandled rejection (which exits the process); log it against the plugin.
      log.logerror(plugin, `hook ${hook}: Haraka failed after the verdict: ${describeError(err)}`)
    }
  }
  const fail = (why: string) => {
    if (settled) return
    log.logerror(plugin, `hook ${hook} ${why}`)
    finish(() => run.failed(why))
  }
  const succeed = (value: unknown) => {
    const problem = run.invalid(value)
    if (problem) fail(problem)
    else finish(() => run.done(value))
  }
  let timer: NodeJS.Timeout | undefined
  let result: unknown
  try {
    result = run.call()
  } catch (err) {
    fail(`failed: ${describeError(err)}`)
    return
  }
  // Most hooks answer at once: handed over now, with no timer to arm and clear and
  // no extra turn (a timer per hook per plugin was ~1 % of the inbound CPU, issue 12).
  if (!isThenable(result)) return succeed(result)
  timer = setTimeout(() => fail(`timed out after ${run.timeoutMs} ms`), run.timeoutMs)
  // Promise.resolve: a thenable whose then() throws or misbehaves settles as a rejection
  Promise.resolve(result).then(succeed, (err: unknown) => fail(`failed: ${describeError(err)}`))
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.message
  return String(err)
}
