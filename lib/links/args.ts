// The arguments of `gateway links`, parsed without side effects (unit-tested).

import type { Direction } from '../redis/keys'

export interface LinksArgs {
  readonly instances: readonly Direction[]
  readonly json: boolean
}

/** The parsed arguments, or a usage problem. */
export function parseLinksArgs(args: readonly string[]): LinksArgs | { problem: string } {
  let instances: Direction[] = ['inbound', 'outbound']
  let json = false
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--json') json = true
    else if (a === '--instance' || a.startsWith('--instance=')) {
      const value = a === '--instance' ? args[++i] : a.slice('--instance='.length)
      if (value !== 'inbound' && value !== 'outbound') return { problem: `--instance needs inbound or outbound, got ${value === undefined ? 'nothing' : `"${value}"`}` }
      instances = [value]
    } else return { problem: `unknown argument "${a}"` }
  }
  return { instances, json }
}
