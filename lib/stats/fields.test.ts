// Unit tests for the counter names (STAT) and statForDenial's hook/return-code mapping.
import * as constants from 'haraka-constants'
import { describe, expect, it } from 'vitest'

import { STAT, statForDenial } from './fields'

describe('STAT', () => {
  it('is frozen and uses snake_case counter names', () => {
    expect(Object.isFrozen(STAT)).toBe(true)
    for (const name of Object.values(STAT)) expect(name).toMatch(/^[a-z]+(_[a-z]+)*$/)
    expect(new Set(Object.values(STAT)).size).toBe(Object.values(STAT).length)
  })
})

describe('statForDenial', () => {
  it.each(['rcpt', 'rcpt_ok'])('counts %s denials per recipient', (hook) => {
    expect(statForDenial(hook, constants.deny)).toBe('recipients_rejected')
    expect(statForDenial(hook, constants.denydisconnect)).toBe('recipients_rejected')
    expect(statForDenial(hook, constants.denysoft)).toBe('recipients_tempfailed')
    expect(statForDenial(hook, constants.denysoftdisconnect)).toBe('recipients_tempfailed')
  })

  it.each(['data', 'data_post', 'queue', 'queue_outbound', 'max_data_exceeded'])('counts %s denials per message', (hook) => {
    expect(statForDenial(hook, constants.deny)).toBe('messages_rejected')
    expect(statForDenial(hook, constants.denydisconnect)).toBe('messages_rejected')
    expect(statForDenial(hook, constants.denysoft)).toBe('messages_tempfailed')
    expect(statForDenial(hook, constants.denysoftdisconnect)).toBe('messages_tempfailed')
  })

  it.each(['connect', 'helo', 'ehlo', 'mail', 'unrecognized_command'])('counts %s denials as rejected sessions, permanent or not', (hook) => {
    expect(statForDenial(hook, constants.deny)).toBe('sessions_rejected')
    expect(statForDenial(hook, constants.denysoft)).toBe('sessions_rejected')
    expect(statForDenial(hook, constants.denysoftdisconnect)).toBe('sessions_rejected')
  })

  it.each(['auth', 'lookup_rcpt_domain', 'get_mx', 'constructor', '__proto__', ''])('counts nothing for the hook %j', (hook) => {
    expect(statForDenial(hook, constants.deny)).toBeUndefined()
    expect(statForDenial(hook, constants.denysoft)).toBeUndefined()
  })
})
