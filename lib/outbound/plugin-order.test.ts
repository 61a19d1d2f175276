// Unit tests: the outbound plugin order that scrubbing and DKIM signing depend on.

import { describe, expect, it } from 'vitest'

import { checkOutboundOrder } from './plugin-order'

const list = (...names: string[]) => names.map((name, i) => ({ name, line: i + 1 }))

describe('checkOutboundOrder', () => {
  it('accepts scrub before the spool and dkim after both', () => {
    expect(() => checkOutboundOrder(list('gateway-core', 'gateway-outbound-scrub', 'gateway-spool', 'gateway-routing', 'dkim'), 'plugins')).not.toThrow()
    expect(() => checkOutboundOrder(list('gateway-core', 'gateway-spool'), 'plugins')).not.toThrow()
  })

  it('refuses scrub after the spool (its queue_outbound hook would never run)', () => {
    expect(() => checkOutboundOrder(list('gateway-core', 'gateway-spool', 'gateway-outbound-scrub'), 'outbound/config/plugins')).toThrow(
      'outbound/config/plugins:3: gateway-outbound-scrub: must come before gateway-spool (which ends the queue_outbound hook)',
    )
  })

  it('refuses dkim before the spool or before scrub (it would sign before the headers are final)', () => {
    expect(() => checkOutboundOrder(list('gateway-core', 'dkim', 'gateway-outbound-scrub', 'gateway-spool'), 'p')).toThrow(/^p:2: dkim: must come after gateway-spool/)
    expect(() => checkOutboundOrder(list('gateway-core', 'dkim', 'gateway-spool', 'gateway-outbound-scrub'), 'p')).toThrow(/gateway-outbound-scrub: must come before/)
  })
})
