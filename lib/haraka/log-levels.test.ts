import { describe, expect, it } from 'vitest'

import { HarakaIncompatibleError } from './internal'
import { demoteRoutineLogLines, isRoutineDeliveryLine, isRoutineSessionLine } from './log-levels'

/** Stand-ins with the shape of Haraka's Connection and HMailItem classes: lognotice and loginfo on the prototype. */
function standIns(log: string[]) {
  const fmt = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')
  class Connection {
    lognotice(...args: unknown[]) {
      log.push(`NOTICE ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`)
    }
    loginfo(...args: unknown[]) {
      log.push(`INFO ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`)
    }
  }
  class HMailItem {
    lognotice(...args: unknown[]) {
      log.push(`NOTICE ${fmt(args)}`)
    }
    loginfo(...args: unknown[]) {
      log.push(`INFO ${fmt(args)}`)
    }
  }
  const modules: Record<string, unknown> = { './connection': { Connection }, './outbound/hmail': HMailItem }
  return { Connection, HMailItem, load: (p: string) => modules[p] }
}

describe('routine Haraka lines', () => {
  it('are told apart by their first argument', () => {
    expect(['connect', 'disconnect', 'message', 'queue', 'sender <a@b>', 'sender <>', 'recipient <x@y>'].map(isRoutineSessionLine)).toEqual(Array(7).fill(true))
    expect(['Client sent bare line-feed inside DATA', 'command pipelined after end of DATA - refused', 'Invalid MAIL FROM address x', { a: 1 }].map(isRoutineSessionLine)).toEqual([false, false, false, false])
    expect(isRoutineDeliveryLine({ 'delivered file': 'f', domain: 'd' })).toBe(true)
    expect(isRoutineDeliveryLine('recipient <a@b> deferred: 451 later')).toBe(true)
    expect(isRoutineDeliveryLine('recipient <a@b> rejected: 550 no')).toBe(true)
    expect(isRoutineDeliveryLine('Double bounce: x')).toBe(false)
  })

  it('go to INFO on every object of both classes, once; other NOTICE lines stay', () => {
    const log: string[] = []
    const { Connection, HMailItem, load } = standIns(log)
    demoteRoutineLogLines(load)
    demoteRoutineLogLines(load) // a second plugin load changes nothing
    const c = new Connection()
    c.lognotice('connect', { ip: '1.2.3.4' })
    c.lognotice('Client sent bare line-feed inside DATA')
    c.lognotice({ name: 'plugin' }, 'decision check=x')
    new HMailItem().lognotice({ 'delivered file': 'f' })
    expect(log).toEqual(['INFO connect {"ip":"1.2.3.4"}', 'NOTICE Client sent bare line-feed inside DATA', 'NOTICE {"name":"plugin"} decision check=x', 'INFO {"delivered file":"f"}'])
  })

  it('refuse a Haraka without lognotice, naming it', () => {
    expect(() => demoteRoutineLogLines((p) => (p === './connection' ? { Connection: class {} } : class {}))).toThrow(HarakaIncompatibleError)
    expect(() => demoteRoutineLogLines((p) => (p === './connection' ? { Connection: class {} } : class {}))).toThrow(/connection\.js Connection\.prototype\.lognotice/)
  })
})
