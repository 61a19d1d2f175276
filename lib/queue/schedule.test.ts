// Unit tests for the hold / single-domain flush decision before each delivery attempt.
import { describe, expect, it } from 'vitest'

import { decideSend, type SendInput } from './schedule'

const NOW = 1_000_000
const base: SendInput = { domain: 'a.test', nextAttempt: NOW, now: NOW, held: new Set(), scope: null, holdRecheckSeconds: 60 }

describe('decideSend', () => {
  it('sends what is due and not held', () => {
    expect(decideSend(base)).toEqual({ kind: 'send' })
  })

  it('puts a held domain back for the recheck time, whatever the flush', () => {
    expect(decideSend({ ...base, domain: 'A.test', held: new Set(['a.test']), scope: { domain: 'a.test', at: NOW } })).toEqual({ kind: 'delay', seconds: 60, why: 'held' })
  })

  it('a flush for another domain sends a pulled-forward message back to its own schedule', () => {
    const d = decideSend({ ...base, nextAttempt: NOW + 90_500, scope: { domain: 'b.test', at: NOW } })
    expect(d).toEqual({ kind: 'delay', seconds: 91, why: 'not-in-flush-scope' })
  })

  it('a flush for this domain, or a message already due, goes now', () => {
    expect(decideSend({ ...base, nextAttempt: NOW + 90_000, scope: { domain: 'a.test', at: NOW } })).toEqual({ kind: 'send' })
    expect(decideSend({ ...base, nextAttempt: NOW + 500, scope: { domain: 'b.test', at: NOW } })).toEqual({ kind: 'send' })
  })

  it('is immune to prototype names as domains', () => {
    expect(decideSend({ ...base, domain: 'constructor', held: new Set(['a.test']) })).toEqual({ kind: 'send' })
  })
})
