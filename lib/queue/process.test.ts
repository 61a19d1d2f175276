// Unit tests for recognising an instance's Haraka process by its command line.
import { describe, expect, it } from 'vitest'

import { isHarakaFor } from './process'

describe('isHarakaFor', () => {
  it('recognises haraka -c <instance dir> as gateway start and systemd run it', () => {
    expect(isHarakaFor(['/usr/bin/node', '/opt/gw/node_modules/haraka/bin/haraka', '-c', '/opt/gw/outbound'], '/opt/gw/outbound')).toBe(true)
    expect(isHarakaFor(['/usr/bin/node', '/opt/gw/node_modules/haraka/bin/haraka', '-c', '/opt/gw/outbound/'], '/opt/gw/outbound')).toBe(true)
  })

  it('ignores the other instance and other programs', () => {
    expect(isHarakaFor(['node', '/opt/gw/node_modules/haraka/bin/haraka', '-c', '/opt/gw/inbound'], '/opt/gw/outbound')).toBe(false)
    expect(isHarakaFor(['vim', '-c', '/opt/gw/outbound'], '/opt/gw/outbound')).toBe(false)
    expect(isHarakaFor(['node', '/x/notharaka', '-c', '/opt/gw/outbound'], '/opt/gw/outbound')).toBe(false)
    expect(isHarakaFor(['node', 'haraka', '-c'], '/opt/gw/outbound')).toBe(false)
  })
})
