// Unit tests for the structure checks on single parsed parts (the message-level
// cases, parsed by Haraka's parser, are in message-scan.test.ts).
import { describe, expect, it } from 'vitest'

import { parseMessage } from './mime'
import { headerLinesProblem, structureProblem } from './mime-structure'

async function root(text: string) {
  const { root } = await parseMessage(Buffer.from(text), () => undefined, { takePart: () => true })
  return root!
}

describe('structureProblem', () => {
  it('accepts a plain text message and a well-formed multipart', async () => {
    expect(structureProblem(await root('Subject: x\r\n\r\nhello\r\n'), 0, 100)).toBeUndefined()
    const multi = await root('Content-Type: multipart/mixed;\r\n boundary="a b"\r\n\r\n--a b\r\n\r\nx\r\n--a b--\r\n')
    expect(structureProblem(multi, 0, 100)).toBeUndefined()
    expect(structureProblem(multi.children[0]!, 1, 100)).toBeUndefined()
  })

  it("reports a multipart at the parser's depth cap as a limit, not as malformed", async () => {
    const multi = await root('Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n')
    expect(structureProblem(multi, 100, 100)).toEqual({ problem: 'limits', detail: 'MIME parts nested deeper than 100' })
  })

  it('leaves a non-multipart with a Content-Type RFC 2045 cannot read alone (nothing can hide in it)', async () => {
    expect(structureProblem(await root('Content-Type: text/plain; name=two words.txt\r\n\r\nhello\r\n'), 0, 100)).toBeUndefined()
    expect(structureProblem(await root('Content-Type: application/octet-stream; name=my message/notes.txt\r\n\r\nhello\r\n'), 0, 100)).toBeUndefined()
    // but one whose type part a reader may take for a container is not
    expect(structureProblem(await root('Content-Type: application/x-foo multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n'), 0, 100)?.problem).toBe('malformed')
  })
})

describe('headerLinesProblem', () => {
  it('reports a message header that filled the lines Haraka parses', () => {
    expect(headerLinesProblem(999, 1000)).toBeUndefined()
    expect(headerLinesProblem(1000, 1000)).toEqual({ problem: 'limits', detail: 'message header of 1000 lines or more: the rest was not parsed' })
  })
})
