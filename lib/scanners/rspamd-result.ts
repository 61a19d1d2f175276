// Reads rspamd's answer to POST /checkv2 (a JSON object) into a small typed
// result, refusing anything that is not a well-formed scan result: a scanner
// answer we cannot trust must follow the failure policy, never pass as "clean".

/** rspamd's built-in actions; an installation may define more (they are kept as given). */
export const RSPAMD_ACTIONS = ['no action', 'greylist', 'add header', 'rewrite subject', 'soft reject', 'reject'] as const

export interface CheckResult {
  /** Sum of the symbol scores. */
  readonly score: number
  /** rspamd's reject threshold (its `required_score`). */
  readonly requiredScore: number
  /** The action rspamd recommends, e.g. "no action", "add header", "reject". */
  readonly action: string
  /** Names of the symbols that matched, e.g. GTUBE, MIME_GOOD. */
  readonly symbols: readonly string[]
}

/** The answer was not a scan result (not JSON, an error object, fields missing or of the wrong type). */
export class BadAnswerError extends Error {
  override readonly name = 'BadAnswerError'
}

export function parseCheckResult(body: string): CheckResult {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    throw new BadAnswerError(`not JSON: ${JSON.stringify(body.slice(0, 120))}`)
  }
  if (!isObject(json)) throw new BadAnswerError('not a JSON object')
  if (typeof json.error === 'string') throw new BadAnswerError(`rspamd error: ${json.error.slice(0, 200)}`)
  const { score, required_score: requiredScore, action, symbols } = json
  if (typeof score !== 'number' || !Number.isFinite(score)) throw new BadAnswerError('no numeric "score"')
  if (typeof requiredScore !== 'number' || !Number.isFinite(requiredScore)) throw new BadAnswerError('no numeric "required_score"')
  if (typeof action !== 'string' || action === '') throw new BadAnswerError('no "action"')
  if (symbols !== undefined && !isObject(symbols)) throw new BadAnswerError('"symbols" is not an object')
  return Object.freeze({ score, requiredScore, action, symbols: Object.freeze(Object.keys(symbols ?? {})) })
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
