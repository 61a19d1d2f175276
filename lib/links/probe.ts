// One check that an SMTP server answers: connect, read the greeting (multi-line
// allowed), send QUIT, close. A 220 greeting is a success; anything else (a
// refused connection, a timeout, a 421/554 greeting) is a failure with the reply
// or the error. Never throws: the caller only records the outcome.

import net from 'node:net'

import { formatHostPort, type HostPort } from '../net/address'

export type ProbeResult = { readonly ok: true; readonly reply: string } | { readonly ok: false; readonly reply: string }

export const PROBE_TIMEOUT_MS = 5000

export function probeSmtp(target: HostPort, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let buffered = ''
    let settled = false
    const socket = net.connect({ host: target.host, port: target.port })
    const finish = (result: ProbeResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      // a server that greeted gets a polite QUIT (its 221 is not awaited); anything else is cut off
      if (/^\d{3}/.test(result.reply)) {
        socket.end('QUIT\r\n')
        setTimeout(() => socket.destroy(), 1000).unref()
      } else socket.destroy()
      resolve(result)
    }
    const timer = setTimeout(() => finish({ ok: false, reply: `no greeting within ${timeoutMs / 1000} s from ${formatHostPort(target)}` }), timeoutMs)
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      buffered += chunk
      if (buffered.length > 4096) return finish({ ok: false, reply: `no SMTP greeting: ${buffered.slice(0, 80)}` })
      // the greeting ends with the line "NNN text" (continuation lines are "NNN-text")
      const last = buffered.split('\r\n').find((line) => /^\d{3}(?: |$)/.test(line))
      if (last === undefined) return
      const lines = buffered.split('\r\n').filter(Boolean)
      const reply = lines.slice(0, lines.indexOf(last) + 1).join(' ')
      finish({ ok: last.startsWith('220'), reply })
    })
    socket.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, reply: `connect ${err.code ?? err.message}` }))
    socket.on('close', () => finish({ ok: false, reply: 'connection closed before the greeting' }))
  })
}
