// Unit tests for filter ROI attribution and the once-per-message counters (spam band, viruses).
import { describe, expect, it } from 'vitest'

import type { Decision } from '../policy/marks'
import { messageEndFields } from './message-end'
import { caught, roiFields } from './roi'

const d = (check: string, result: string, action: string): Decision => ({ check, result, action })

describe('roiFields', () => {
  it('a check that refused alone: first and only', () => {
    expect(roiFields([d('spf', 'pass', 'accept'), d('sender-spoofing', 'internal_domain_envelope', 'reject')])).toEqual([
      'roi:first:sender-spoofing',
      'roi:only:sender-spoofing',
    ])
  })

  it('the first stopping decision decides; every other check that caught it (monitor, tag, later stops) is "also", once', () => {
    const ds = [
      d('sender-blocklist', 'blocked_envelope', 'monitor'),
      d('dmarc', 'fail', 'tag'),
      d('spam', 'scl_9', 'quarantine'),
      d('virus', 'infected', 'reject'),
      d('dmarc', 'fail', 'tag'),
    ]
    expect(roiFields(ds)).toEqual(['roi:first:spam', 'roi:also:sender-blocklist', 'roi:also:dmarc', 'roi:also:virus'])
  })

  it('passes never count: accept, or a monitored check that found nothing (clean, low SCL, unscanned)', () => {
    expect(caught(d('spam', 'scl_3', 'monitor'))).toBe(false)
    expect(caught(d('spam', 'scl_5', 'monitor'))).toBe(true)
    expect(caught(d('virus', 'clean', 'monitor'))).toBe(false)
    expect(caught(d('recipient', 'unknown', 'accept'))).toBe(false)
    expect(roiFields([d('spam', 'scl_1', 'monitor'), d('recipient', 'unknown', 'reject')])).toEqual(['roi:first:recipient', 'roi:only:recipient'])
  })

  it('a scanner failure is no catch; a refusal no recorded check decided is unattributed', () => {
    expect(roiFields([d('spam', 'unscanned', 'tempfail')])).toEqual(['roi_unattributed'])
    expect(roiFields([])).toEqual(['roi_unattributed'])
  })
})

describe('messageEndFields', () => {
  it('counts the spam band and an infected verdict of every message, ROI only for stopped ones', () => {
    expect(messageEndFields([d('spam', 'scl_0', 'accept')], false)).toEqual(['spam_scl:0-1'])
    expect(messageEndFields([d('spam', 'scl_4', 'accept')], false)).toEqual(['spam_scl:2-4'])
    expect(messageEndFields([d('spam', 'scl_6', 'tag')], false)).toEqual(['spam_scl:5-6'])
    expect(messageEndFields([d('virus', 'infected', 'reject')], true)).toEqual(['viruses', 'roi:first:virus', 'roi:only:virus'])
    expect(messageEndFields([d('spam', 'scl_8', 'quarantine')], true)).toEqual(['spam_scl:7-9', 'roi:first:spam', 'roi:only:spam'])
    expect(messageEndFields([d('spam', 'unscanned', 'accept')], false)).toEqual([])
  })
})
