// Unit test of the settings; the line handling is lib/message-syntax/data-lines.test.ts,
// the whole path over SMTP test/security/message-integrity.test.ts.

import { describe, expect, it } from 'vitest'

import { pluginHarness } from '../../lib/plugin/testing'
import plugin from './plugin'

describe('gateway-message-syntax', () => {
  it('refuses a bad setting with file, line and key', () => {
    expect(() => pluginHarness(plugin, { ini: '[main]\nbare_line_endings=fix\n' })).toThrow(/gateway-message-syntax\.ini:2: \[main\] bare_line_endings: "fix" is not one of: reject, normalize/)
  })

  it('registers its two hooks', () => {
    expect(pluginHarness(plugin).hooks).toEqual(['connect_init', 'data_post'])
  })
})
