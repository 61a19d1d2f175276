import { describe, expect, it } from 'vitest'

import { deliveryLine, logValue } from './summary-line'

describe('log values', () => {
  it('stay bare when plain, are quoted when a client could forge a field or a line, and are cut short', () => {
    expect(logValue('a@b.test')).toBe('a@b.test')
    expect(logValue('evil result=accepted')).toBe('"evil result=accepted"')
    expect(logValue('x\nsummary id=forged')).toBe('"x\\nsummary id=forged"')
    expect(logValue('a"b')).toBe('"a\\"b"')
    expect(logValue('x'.repeat(500))).toBe(`${'x'.repeat(200)}...`)
  })
})

describe('deliveryLine', () => {
  it('says the result, the server and its reply', () => {
    expect(deliveryLine('Q.1.1', { result: 'delivered', domain: 'partner.test', host: 'mx.partner.test[192.0.2.1]:25', tls: true, reply: '250 2.0.0 OK', recipients: 2, failures: 0 })).toBe(
      'delivery id=Q.1.1 result=delivered domain=partner.test host=mx.partner.test[192.0.2.1]:25 tls=Y rcpts=2 failures=0 reply="250 2.0.0 OK"',
    )
    expect(deliveryLine('Q.1.1', { result: 'deferred', domain: 'partner.test', reply: 'Upstream error: 451 4.3.0 later', recipients: 1, failures: 2, retryIn: 300 })).toBe(
      'delivery id=Q.1.1 result=deferred domain=partner.test rcpts=1 failures=2 reply="Upstream error: 451 4.3.0 later" retry_in=300',
    )
  })
})
