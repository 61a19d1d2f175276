// Settles one hook call exactly once, whatever the handler does: returns, throws,
// rejects, never finishes, or returns something Haraka cannot take. The one
// implementation behind every hook of every gateway plugin (define.ts).
//
// A HookSpec is built once per plugin and hook; a call passes only what Haraka
// gave it. A handler that answers at once (nearly all of them) costs no closure,
// timer or promise: some 45 hook calls per message made the per-call closures
// the largest single source of garbage in the inbound pipeline (issue 12).

export interface HookLog {
  logerror(...args: unknown[]): void
}

export interface HookSpec<S extends HookLog> {
  readonly plugin: { readonly name: string }
  readonly hook: string
  readonly timeoutMs: number
  /** Calls the handler for this subject (connection, hmail or queueing context) and Haraka's parameters. */
  call(subject: S, params: unknown): unknown
  /** Why the handler's result is unusable, or undefined. */
  invalid(value: unknown): string | undefined
  /** Hands the result to Haraka (calls next). */
  done(next: Haraka.Next, value: unknown): void
  /** Hands the failure answer to Haraka (calls next); `why` is already logged against `subject`. */
  failed(next: Haraka.Next, subject: S, why: string): void
}

export function runHook<S extends HookLog>(spec: HookSpec<S>, next: Haraka.Next, subject: S, params: unknown): void {
  let result: unknown
  try {
    result = spec.call(subject, params)
  } catch (err) {
    fail(spec, next, subject, `failed: ${describeError(err)}`)
    return
  }
  // Most hooks answer at once: handed over now, with no timer to arm and clear and
  // no extra turn (a timer per hook per plugin was ~1 % of the inbound CPU, issue 12).
  if (!isThenable(result)) return succeed(spec, next, subject, result)
  let settled = false
  const timer = setTimeout(() => {
    if (settled) return
    settled = true
    fail(spec, next, subject, `timed out after ${spec.timeoutMs} ms`)
  }, spec.timeoutMs)
  // Promise.resolve: a thenable whose then() throws or misbehaves settles as a rejection
  Promise.resolve(result).then(
    (value: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      succeed(spec, next, subject, value)
    },
    (err: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fail(spec, next, subject, `failed: ${describeError(err)}`)
    },
  )
}

function succeed<S extends HookLog>(spec: HookSpec<S>, next: Haraka.Next, subject: S, value: unknown): void {
  const problem = spec.invalid(value)
  if (problem) return fail(spec, next, subject, problem)
  try {
    spec.done(next, value)
  } catch (err) {
    afterVerdict(spec, subject, err)
  }
}

function fail<S extends HookLog>(spec: HookSpec<S>, next: Haraka.Next, subject: S, why: string): void {
  subject.logerror(spec.plugin, `hook ${spec.hook} ${why}`)
  try {
    spec.failed(next, subject, why)
  } catch (err) {
    afterVerdict(spec, subject, err)
  }
}

// Haraka continues the session inside next(): a throw there must not become an
// unhandled rejection (which exits the process); log it against the plugin.
function afterVerdict(spec: HookSpec<HookLog>, subject: HookLog, err: unknown): void {
  subject.logerror(spec.plugin, `hook ${spec.hook}: Haraka failed after the verdict: ${describeError(err)}`)
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.stack ?? err.message
  return String(err)
}
