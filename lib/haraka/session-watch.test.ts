// Unit tests for the per-connection session watch on a stand-in for Haraka's
// Connection (the real one is exercised by test/security/client-limits.test.ts): lines and
// replies reach the observer with the session's phase, a DSN's own code is the one
// judged, a replaced reply is not written, endSession writes once and disconnects,
// and a Haraka without respond() stops with the checklist named.
import DSN from 'haraka-dsn'
import { describe, expect, it } from 'vitest'

import { endSession, phaseOf, watchSession, type Phase } from './session-watch'

function standIn() {
  const written: string[] = []
  const c = {
    state: 4, // PAUSE: before the greeting
    disconnected: false,
    respond(code: number, msg: unknown, func?: () => void) {
      written.push(`${code} ${String(msg)}`)
      this.state = 1
      func?.()
    },
    process_line(_line: Buffer) {},
    disconnect() {
      this.disconnected = true
      this.state = 99
    },
  }
  return { c, conn: c as unknown as Haraka.Connection, written }
}

describe('watchSession', () => {
  it('hands lines and replies to the observer, judging a DSN by its own code', () => {
    const { conn, written } = standIn()
    const seen: string[] = []
    watchSession(conn, {
      line: (phase, line) => seen.push(`line ${phase} ${line.length}`),
      replacing: (code) => (seen.push(`replacing ${code}`), code === 500),
      replied: (phase: Phase) => seen.push(`replied ${phase}`),
    })
    conn.respond(220, 'ready')
    ;(conn as unknown as { process_line(l: Buffer): void }).process_line(Buffer.from('XYZZY\r\n'))
    ;(conn.respond as (code: number, msg: unknown) => void)(250, new DSN(500, 'Unrecognized command', null, 5, 2))
    expect(seen).toEqual(['replacing 220', 'replied command', 'line command 7', 'replacing 500'])
    expect(written).toEqual(['220 ready'])
  })

  it('endSession writes its reply once and disconnects', () => {
    const { c, conn, written } = standIn()
    watchSession(conn, { line: () => {}, replacing: () => true, replied: () => {} })
    c.state = 1
    endSession(conn, 421, '4.4.2', 'Timeout')
    endSession(conn, 421, '4.4.2', 'Timeout')
    expect(written).toEqual(['421 4.4.2 Timeout'])
    expect(c.disconnected).toBe(true)
    expect(phaseOf(conn)).toBe('closed')
  })

  it('stops with the checklist named when Haraka has no respond()', () => {
    expect(() => watchSession({ process_line() {} } as unknown as Haraka.Connection, { line: () => {}, replacing: () => false, replied: () => {} })).toThrow(
      /Haraka's connection has no respond\(\) \(used by gateway-client-limits .*\); see lib\/haraka\/UPGRADING\.md/,
    )
  })
})
