// Parsing rspamd's /checkv2 answer: real answers are read, anything else is refused.

import { describe, expect, it } from 'vitest'

import { BadAnswerError, parseCheckResult } from './rspamd-result'

// Shapes of real rspamd 3.4 answers (trimmed)
const CLEAN =
  '{"is_skipped":false,"score":-0.100000,"required_score":15.0,"action":"no action","symbols":{"MIME_GOOD":{"name":"MIME_GOOD","score":-0.100000},"RCPT_COUNT_ONE":{"name":"RCPT_COUNT_ONE","score":0.0}},"messages":{},"message-id":"x1@test.invalid","time_real":0.15}'
const GTUBE = '{"is_skipped":true,"score":15.0,"required_score":15.0,"action":"reject","symbols":{"GTUBE":{"name":"GTUBE","score":0.0}},"messages":{"smtp_message":"Gtube pattern"}}'

describe('parseCheckResult', () => {
  it('reads score, threshold, action and symbol names', () => {
    expect(parseCheckResult(CLEAN)).toEqual({ score: -0.1, requiredScore: 15, action: 'no action', symbols: ['MIME_GOOD', 'RCPT_COUNT_ONE'] })
    expect(parseCheckResult(GTUBE)).toMatchObject({ action: 'reject', symbols: ['GTUBE'] })
  })

  it('accepts an answer without symbols', () => {
    expect(parseCheckResult('{"score":0,"required_score":15,"action":"no action"}').symbols).toEqual([])
  })

  it('keeps symbol names as plain strings, prototype names included', () => {
    expect(parseCheckResult('{"score":1,"required_score":15,"action":"no action","symbols":{"__proto__":{},"constructor":{}}}').symbols).toEqual(['__proto__', 'constructor'])
  })

  it.each([
    ['', /not JSON/],
    ['<html>502 Bad Gateway</html>', /not JSON/],
    ['[]', /not a JSON object/],
    ['{"error":"cannot parse message"}', /rspamd error/],
    ['{"required_score":15,"action":"no action"}', /score/],
    ['{"score":"5","required_score":15,"action":"no action"}', /score/],
    ['{"score":5,"action":"no action"}', /required_score/],
    ['{"score":5,"required_score":15}', /action/],
    ['{"score":5,"required_score":15,"action":"reject","symbols":[]}', /symbols/],
  ])('refuses %j', (body, why) => {
    expect(() => parseCheckResult(body)).toThrow(BadAnswerError)
    expect(() => parseCheckResult(body)).toThrow(why)
  })
})
