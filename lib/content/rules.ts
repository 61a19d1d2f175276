// Operator-written content rules: a regular expression matched against one
// header or against the text parts of the body, each rule with its own action.
// Matching is bounded: only the first part of each header value and text part
// is searched, so a huge message cannot make a rule expensive. (The patterns
// themselves come from the operator and are trusted; avoid nested quantifiers
// such as (a+)+, which backtrack exponentially on crafted text.)

import type { Action } from '../policy/actions'

export type RuleTarget = { readonly kind: 'header'; readonly header: string } | { readonly kind: 'body' }

export interface ContentRule {
  /** From the section name [rule.<name>]; the check is reported as content-rule:<name>. */
  readonly name: string
  readonly target: RuleTarget
  readonly regex: RegExp
  readonly action: Action
  /** Text for X-Gateway-Tag when the action is tag; empty = the rule's name. */
  readonly tag: string
}

/** Flags a rule may use: i (ignore case), m (^ $ per line), s (. matches newlines), u (Unicode). */
export const RULE_FLAGS = 'imsu'

/** Compiles a rule's pattern; throws an Error whose message says what is wrong (for a ConfigError). */
export function compilePattern(pattern: string, flags: string): RegExp {
  if (pattern === '') throw new Error('must not be empty')
  for (const f of flags) {
    if (!RULE_FLAGS.includes(f)) throw new Error(`flag "${f}" is not one of ${RULE_FLAGS.split('').join(', ')}`)
  }
  if (new Set(flags).size !== flags.length) throw new Error(`flags "${flags}" repeat a flag`)
  const inline = /^\(\?([a-z]+)\)/.exec(pattern)
  if (inline) throw new Error(`inline flags like "(?${inline[1]})" do not exist in JavaScript regular expressions: remove them and write flags=${inline[1]}`)
  try {
    return new RegExp(pattern, flags)
  } catch (err) {
    throw new Error(`invalid regular expression: ${(err as Error).message}`)
  }
}

/** The rules that match, in configuration order. `header(name)` returns the decoded header value(s). */
export function matchingRules(
  rules: readonly ContentRule[],
  message: { header(name: string): string; texts: readonly string[] },
  maxChars: number,
): ContentRule[] {
  return rules.filter((rule) => {
    if (rule.target.kind === 'header') return rule.regex.test(message.header(rule.target.header).slice(0, maxChars))
    return message.texts.some((text) => rule.regex.test(text.slice(0, maxChars)))
  })
}
