// Unit tests for the patch functions of lib/haraka on stand-ins with Haraka's
// shape: what they hand back to Haraka, that each installs once, and that a
// stand-in without the method is refused by name. What they do inside the real
// Haraka is tested by the integration tests UPGRADING.md names.

import { describe, expect, it } from 'vitest'

import { onDeliverySocket } from './client-pool'
import { lineText, overrideCommandLine, overrideDebugLog, overrideGreeting, overrideMailCommand, overrideMaxDataReply, overrideReceivedLine } from './connection'
import { requireTlsWhen, rewriteBounceMessages } from './hmail'
import { HarakaIncompatibleError, type HarakaLoader } from './internal'
import { queueDir, transactionModule } from './outbound'
import { trustForOutboundTls } from './outbound-tls'
import { setListen } from './server'

const asConnection = (c: object) => c as unknown as Haraka.Connection

describe('per-connection overrides (connection.js)', () => {
  it('hand what they do not answer to Haraka, on this connection only', () => {
    const calls: string[] = []
    const conn = {
      cmd_mail: (line: string) => calls.push(`mail ${line}`),
      max_data_exceeded_respond: (retval: number, msg?: unknown) => calls.push(`max ${retval} ${String(msg)}`),
      process_line: (line: Buffer) => calls.push(`line ${line.toString()}`),
      logdebug: (...args: unknown[]) => calls.push(`debug ${args.join(' ')}`),
    }
    const c = asConnection(conn)
    overrideMailCommand(c, (line, haraka) => (line.includes('SIZE') ? calls.push('answered') : haraka(line)))
    overrideMaxDataReply(c, (retval, msg, haraka) => haraka(retval, `${String(msg)}!`))
    overrideCommandLine(c, (line, haraka) => haraka(Buffer.from(line.toString().toUpperCase())))
    overrideDebugLog(c, (args) => args.map(() => 'hidden'))
    conn.cmd_mail('FROM:<a@b> SIZE=9')
    conn.cmd_mail('FROM:<a@b>')
    conn.max_data_exceeded_respond(902, 'big')
    conn.process_line(Buffer.from('noop'))
    conn.logdebug('pipeline: secret')
    expect(calls).toEqual(['answered', 'mail FROM:<a@b>', 'max 902 big!', 'line NOOP', 'debug hidden'])
  })

  it('greet and write the Received header without the software name, leaving refusals and hook greetings to Haraka', () => {
    const sent: string[] = []
    const conn = {
      local: { host: 'mx.example.org', info: 'Haraka' },
      connect_respond: (retval: number, msg?: unknown) => sent.push(`${retval} ${String(msg)}`),
      received_line: () => 'from x (Haraka) with y ([1.2.3.4])\r\n\tby mx.example.org (Haraka) with ESMTPS id ABC\r\n\tenvelope-from <a@b>',
    }
    const c = asConnection(conn)
    overrideGreeting(c, () => 'mx.example.org ESMTP ready')
    conn.connect_respond(900)
    conn.connect_respond(903, 'Come back later')
    conn.connect_respond(906, 'from a hook')
    expect(sent).toEqual(['900 mx.example.org ESMTP ready', '903 Come back later', '906 from a hook'])
    overrideReceivedLine(c, '')
    expect(conn.received_line()).toBe('from x (Haraka) with y ([1.2.3.4])\r\n\tby mx.example.org with ESMTPS id ABC\r\n\tenvelope-from <a@b>')
    const other = asConnection({ ...conn, received_line: () => '\tby mx (Haraka) with ESMTP id 1' })
    overrideReceivedLine(other, 'Edge')
    expect((other as unknown as { received_line: () => string }).received_line()).toBe('\tby mx (Edge) with ESMTP id 1')
  })

  it('refuse a connection without the method, naming it', () => {
    expect(() => overrideMailCommand(asConnection({}), () => {})).toThrow(HarakaIncompatibleError)
    expect(() => overrideCommandLine(asConnection({}), () => {})).toThrow(/Haraka's connection has no process_line\(\) \(used by gateway-submission-auth and gateway-refuse-auth \(credential intake\)\); see lib\/haraka\/UPGRADING\.md/)
  })

  it('decode a line as Haraka does: the session encoding, without its line end', () => {
    expect(lineText(asConnection({}), Buffer.from('AUTH PLAIN x\r\n'))).toBe('AUTH PLAIN x')
    expect(lineText(asConnection({ encoding: 'binary' }), Buffer.from('ü\n'))).toBe('Ã¼')
  })
})

/** A stand-in for outbound/hmail.js: a class whose prototype has Haraka's two methods. */
function fakeHmail() {
  class HMailItem {
    todo = { domain: 'example.net' }
    populate_bounce_message_with_headers(_from: unknown, _to: unknown, reason: unknown, _header: unknown, cb: (err: unknown, lines?: string[]) => void) {
      cb(null, [`Reason: ${String(reason)}`, 'Original-Envelope-Id: <x@y>'])
    }
    get_force_tls(_mx: unknown) {
      return false
    }
  }
  return HMailItem
}

describe('HMailItem wrappers (outbound/hmail.js)', () => {
  it('rewrite every DSN, installed once per process', async () => {
    const HMailItem = fakeHmail()
    const load: HarakaLoader = () => HMailItem
    rewriteBounceMessages(load, { reason: (r) => (r instanceof Error ? r.message : r), lines: (l) => l.filter((x) => !x.startsWith('Original')) })
    rewriteBounceMessages(load, { reason: () => 'second', lines: (l) => l })
    const lines = await new Promise((resolve) => new HMailItem().populate_bounce_message_with_headers('', '', new Error('550 no'), {}, (_e, l) => resolve(l)))
    expect(lines).toEqual(['Reason: 550 no'])
  })

  it('force TLS where the policy requires it, Haraka decides elsewhere', () => {
    const HMailItem = fakeHmail()
    requireTlsWhen(() => HMailItem, (hmail) => hmail.todo.domain === 'example.net')
    const item = new HMailItem()
    expect(item.get_force_tls({})).toBe(true)
    item.todo.domain = 'other.test'
    expect(item.get_force_tls({})).toBe(false)
  })

  it('refuse a class without the method, naming it', () => {
    expect(() => requireTlsWhen(() => class {}, () => true)).toThrow(/outbound\/hmail\.js prototype\.get_force_tls is undefined, not a function/)
  })
})

describe('outbound modules', () => {
  it('trusts extra CAs in every outgoing TLS option set, once', () => {
    const obtls = { cfg: { minVersion: 'TLSv1.2' }, get_tls_options(this: { cfg: object }, mx: { exchange: string }) { return { ...this.cfg, servername: mx.exchange } } }
    trustForOutboundTls(() => obtls, ['PEM-A'])
    trustForOutboundTls(() => obtls, ['PEM-B'])
    expect(obtls.get_tls_options({ exchange: 'mx.example.net' })).toEqual({ minVersion: 'TLSv1.2', servername: 'mx.example.net', ca: ['PEM-A'] })
  })

  it('shows every connected delivery socket before Haraka uses it, with the TCP socket underneath', async () => {
    const seen: string[] = []
    const tcp = { setNoDelay: () => tcp }
    const pool = {
      get_client: (mx: { exchange: string }, cb: (err: unknown, s: Haraka.OutboundSocket | null) => void) =>
        mx.exchange === 'bad' ? cb('refused', null) : cb(null, { name: mx.exchange, ...(mx.exchange === 'tcp' ? { targetsocket: tcp } : {}) }),
    }
    onDeliverySocket(() => pool, (t, s) => seen.push(`${s.name ?? ''}:${t ? 'tcp' : 'none'}`))
    const get = (exchange: string) => new Promise((resolve) => pool.get_client({ exchange }, (err, s) => resolve(err ?? s?.name)))
    expect(await Promise.all(['tcp', 'odd', 'bad'].map(get))).toEqual(['tcp', 'odd', 'refused'])
    expect(seen).toEqual(['tcp:tcp', 'odd:none'])
  })

  it('sets the listen addresses where Haraka reads them', () => {
    const server = { cfg: { main: { listen: '[::0]:25' } }, get_listen_addrs: () => [] }
    expect(setListen(() => server, '127.0.0.1:2525')).toBe('127.0.0.1:2525')
    expect(server.cfg.main.listen).toBe('127.0.0.1:2525')
    expect(() => setListen(() => ({ cfg: {} }), 'x')).toThrow(/server\.js cfg\.main is undefined, not an object \(used by gateway-core \(listen addresses\)\)/)
  })

  it('reads the queue folder, and refuses a transaction module without end_data', () => {
    expect(queueDir((p) => (p === './outbound/queue' ? { queue_dir: '/var/q' } : undefined))).toBe('/var/q')
    expect(() => transactionModule(() => ({ createTransaction() {}, Transaction: class {} }))).toThrow(/transaction\.js Transaction\.prototype\.end_data is undefined/)
  })
})
