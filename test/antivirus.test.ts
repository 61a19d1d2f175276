// Virus scanning of inbound mail (gateway-antivirus) over real SMTP, with a real
// private clamd (one local signature for the EICAR test string): the EICAR string
// as plain text, in a base64 attachment and inside zip files is refused at the end
// of DATA; clean mail arrives intact; quarantine and monitor actions; the unix
// socket transport; clamd's StreamMaxLength; and clamd down, hung or stopped under
// both failure policies. A message that was refused never reaches the internal server.

import fs from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'

import { describe, expect, it } from 'vitest'

import { scanStream } from '../lib/scanners/clamd-client'
import { ClamdError } from '../lib/scanners/clamd-protocol'
import { EICAR_SIGNATURE, eicar, TestClamd } from './helpers/clamd'
import { delivered as arrived, gatewayWithSink } from './helpers/fixtures'
import { sendMail, testMessage, type TestGateway } from './helpers/gateway'
import { addressBlock, SilentServer } from './helpers/net'
import { zip, type ZipMethod } from './helpers/zip-for-antivirus'

// The inbound pipeline reduced to what this check needs (the shipped list belongs to others).
const PLUGINS = ['gateway-core', 'gateway-stats', 'gateway-refuse-auth', 'gateway-accepted-domains', 'gateway-antivirus', 'gateway-spool', 'gateway-routing'].join('\n')

const block = addressBlock()
const clamd = new TestClamd({ host: block.ip(4), port: 3310, streamMaxLength: '1M' })
// clamd that accepts connections and then says nothing
const hungClamd = new SilentServer(block.ip(5), 3310)
const antivirusIni = (ini: string) => ({ 'inbound/config/gateway-antivirus.ini': `[main]\n${ini}\n` })

const {
  sink: internal,
  gw: tcpReject, // action=reject, on_error=tempfail (defaults), TCP
  variants: { unixQuarantine, monitor, acceptUnscanned, hung, afterContent },
  startRefused,
} = gatewayWithSink({
  block,
  files: { 'inbound/config/plugins': PLUGINS, ...antivirusIni(`server=${clamd.address}`) },
  services: [{ start: () => clamd.start(), stop: () => clamd.dispose() }, hungClamd],
  variants: {
    unixQuarantine: { files: antivirusIni(`server=${clamd.socketPath}\naction=quarantine`) },
    monitor: { files: antivirusIni(`server=${clamd.address}\naction=monitor`) },
    acceptUnscanned: { files: antivirusIni(`server=${clamd.address}\non_error=accept`) },
    // a clamd that never answers, on_error=tempfail
    hung: { files: antivirusIni(`server=${hungClamd.address}\nconnect_timeout_ms=500\ntimeout_ms=1500`) },
    // gateway-content reads the stored message first
    afterContent: { files: { 'inbound/config/plugins': PLUGINS.replace('gateway-antivirus', 'gateway-content\ngateway-antivirus') } },
  },
})

const FROM = 'sender@outside.test'
const TO = 'bob@example.com'

/** A multipart message with one attachment, base64-encoded in 76-character lines. */
function withAttachment(filename: string, contentType: string, data: Buffer): { text: string; marker: string } {
  const b64 = data.toString('base64').replace(/.{76}/g, '$&\r\n')
  return testMessage({
    from: FROM,
    to: TO,
    subject: `attachment ${filename}`,
    headers: ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="gw-boundary"'],
    body: [
      '--gw-boundary',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      'Please see the attachment.',
      '--gw-boundary',
      `Content-Type: ${contentType}; name="${filename}"`,
      'Content-Transfer-Encoding: base64',
      `Content-Disposition: attachment; filename="${filename}"`,
      '',
      b64,
      '--gw-boundary--',
    ].join('\r\n'),
  })
}

async function send(gw: TestGateway, text: string) {
  const { client } = await gw.connect('inbound')
  await client.ehlo('mx.outside.test')
  const r = await sendMail(client, { from: FROM, to: [TO] }, text)
  await client.quit()
  return r
}

/** Sends a clean message and waits until it arrives: whatever was refused before it had its chance to arrive too. */
async function deliveredClean(gw: TestGateway): Promise<string> {
  const { text, marker } = testMessage({ from: FROM, to: TO, subject: 'probe' })
  expect((await send(gw, text)).end!.code).toBe(250)
  return (await arrived(internal, marker)).raw
}

async function waitForMarker(marker: string): Promise<string> {
  return (await arrived(internal, marker)).raw
}

function delivered(marker: string): boolean {
  return internal.messages.some((m) => m.raw.includes(marker))
}

/** The header block of a delivered message, unfolded. */
function headersOf(raw: string): string {
  return raw.split('\r\n\r\n')[0]!.replace(/\r\n[ \t]+/g, ' ')
}

describe('clamd client against the real clamd', () => {
  it('gets a FOUND verdict with the signature name for EICAR and OK for clean data, over TCP and the unix socket', async () => {
    for (const address of [clamd.tcp, clamd.unix]) {
      const opts = { address, connectTimeoutMs: 1000, timeoutMs: 5000 }
      expect(await scanStream(opts, Readable.from([Buffer.from('hello\r\n'), eicar()]))).toEqual({ infected: true, signature: EICAR_SIGNATURE })
      expect(await scanStream(opts, Readable.from([Buffer.from('hello, nothing to see here\r\n')]))).toEqual({ infected: false })
    }
  })

  it('does not call a stream longer than StreamMaxLength clean', async () => {
    for (const address of [clamd.tcp, clamd.unix]) {
      const big = Readable.from(Array.from({ length: 24 }, () => Buffer.alloc(64 * 1024, 0x41))) // 1.5 MiB > 1M
      const err = await scanStream({ address, connectTimeoutMs: 1000, timeoutMs: 5000 }, big).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(ClamdError)
      // over the unix socket clamd's answer always arrives; over TCP it may be lost in the reset
      expect(['size_limit', 'io']).toContain((err as ClamdError).reason)
    }
  })
})

describe('action reject (default), clamd over TCP', () => {
  it('refuses EICAR in a plain body with 554 5.7.1 at the end of DATA and delivers nothing', async () => {
    const { text, marker } = testMessage({ from: FROM, to: TO, body: `Hello,\r\n${eicar().toString('latin1')}\r\n` })
    const r = await send(tcpReject, text)
    expect(r.rcpts[0]!.code).toBe(250)
    expect(r.data!.code).toBe(354)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual([554, '5.7.1', '5.7.1 Message contains a virus'])
    expect(r.end!.text).not.toContain('EICAR') // the signature name is for the log only
    await deliveredClean(tcpReject)
    expect(delivered(marker)).toBe(false)
    expect(tcpReject.log('inbound')).toContain(`detail="${EICAR_SIGNATURE}"`)
  })

  it('refuses EICAR inside a base64 MIME attachment', async () => {
    const { text, marker } = withAttachment('readme.txt', 'application/octet-stream', eicar())
    expect(text).not.toContain('EICAR') // only a decoder finds it
    const r = await send(tcpReject, text)
    expect([r.end!.code, r.end!.enhanced]).toEqual([554, '5.7.1'])
    await deliveredClean(tcpReject)
    expect(delivered(marker)).toBe(false)
  })

  it.each<ZipMethod>(['stored', 'deflated'])('refuses EICAR inside a %s zip attachment', async (method) => {
    const archive = zip([{ name: 'notes.txt', data: Buffer.from('nothing here\n') }, { name: 'docs/invoice.com', data: eicar() }], method)
    if (method === 'deflated') expect(archive.includes(eicar())).toBe(false) // only unpacking finds it
    const { text, marker } = withAttachment('invoice.zip', 'application/zip', archive)
    const r = await send(tcpReject, text)
    expect([r.end!.code, r.end!.enhanced]).toEqual([554, '5.7.1'])
    await deliveredClean(tcpReject)
    expect(delivered(marker)).toBe(false)
  })

  it('delivers a clean message (with a clean zip) intact, marked as scanned, without a forged scan header', async () => {
    const archive = zip([{ name: 'report.txt', data: Buffer.from('quarterly numbers\n'.repeat(50)) }], 'deflated')
    const { text, marker } = withAttachment('report.zip', 'application/zip', archive)
    const forged = text.replace('MIME-Version: 1.0', 'X-Gateway-Virus: clean\r\nMIME-Version: 1.0')
    const r = await send(tcpReject, forged)
    expect([r.end!.code, r.end!.enhanced]).toEqual([250, '2.0.0'])
    const raw = await waitForMarker(marker)
    expect(raw).toContain(text.split('\r\n\r\n').slice(1).join('\r\n\r\n')) // the body, byte for byte
    const headers = headersOf(raw)
    expect(headers).toContain('X-Gateway-Checks: virus=clean (accept)')
    expect(headers).not.toMatch(/^X-Gateway-Virus:/im)
  })

  it('answers 451 4.3.0 (on_error=tempfail) for a message longer than clamd StreamMaxLength, delivering nothing', async () => {
    const line = 'A'.repeat(76)
    const { text, marker } = testMessage({ from: FROM, to: TO, body: Array.from({ length: 20_000 }, () => line).join('\r\n') }) // ~1.5 MiB
    const r = await send(tcpReject, text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual([451, '4.3.0', '4.3.0 Temporary local problem, please try again later'])
    await deliveredClean(tcpReject)
    expect(delivered(marker)).toBe(false)
  })
})

describe('action quarantine, clamd over its unix socket', () => {
  it('answers 250 for EICAR but keeps it in inbound/quarantine instead of delivering it', async () => {
    const { text, marker } = withAttachment('setup.zip', 'application/zip', zip([{ name: 'setup.exe', data: eicar() }], 'deflated'))
    const r = await send(unixQuarantine, text)
    expect([r.end!.code, r.end!.enhanced]).toEqual([250, '2.0.0'])
    await deliveredClean(unixQuarantine)
    expect(delivered(marker)).toBe(false)

    const dir = path.join(unixQuarantine.root, 'inbound', 'quarantine')
    const entries = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { id: string; check: string; result: string; to: string[]; messageId: string })
    const entry = entries.find((e) => e.messageId.includes(marker))
    expect(entry).toMatchObject({ check: 'virus', result: 'infected', to: [TO] })
    const eml = fs.readFileSync(path.join(dir, `${entry!.id}.eml`), 'utf8')
    expect(eml).toContain(marker)
    expect(headersOf(eml)).toContain('X-Gateway-Checks: virus=infected (quarantine)')
  })

  it('scans and delivers clean mail over the unix socket', async () => {
    const raw = await deliveredClean(unixQuarantine)
    expect(headersOf(raw)).toContain('X-Gateway-Checks: virus=clean (accept)')
  })
})

describe('action monitor', () => {
  it('delivers EICAR with the decision in X-Gateway-Checks', async () => {
    const { text, marker } = withAttachment('readme.txt', 'text/plain', eicar())
    const r = await send(monitor, text)
    expect([r.end!.code, r.end!.enhanced]).toEqual([250, '2.0.0'])
    const headers = headersOf(await waitForMarker(marker))
    expect(headers).toContain('X-Gateway-Checks: virus=infected (monitor)')
    expect(headers).not.toMatch(/^X-Gateway-Virus:/im)
  })
})

describe('clamd hung', () => {
  it('answers 451 4.3.0 when clamd accepts the connection but never answers, delivering nothing', async () => {
    const { text, marker } = testMessage({ from: FROM, to: TO })
    const r = await send(hung, text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual([451, '4.3.0', '4.3.0 Temporary local problem, please try again later'])
    expect(hung.log('inbound')).toMatch(/message not scanned \(timeout\)/)
    // this gateway never delivers; its queue stayed empty
    expect(hung.queueFiles('inbound')).toEqual([])
    expect(delivered(marker)).toBe(false)
  })
})

describe('after content inspection (gateway-content reads the stored message first)', () => {
  it('scans the whole message even when content inspection stopped reading it at a limit, and delivers clean mail intact', async () => {
    const gw = afterContent
    // 2,000 parts: content inspection stops at 1,000 (a finding whose default action,
    // quarantine, lets the next check run); clamd must still get EICAR after them
    const flood = Array.from({ length: 2000 }, (_, i) => `--flood\r\n\r\npart ${i}`).join('\r\n')
    const { text, marker } = testMessage({
      from: FROM,
      to: TO,
      headers: ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="flood"'],
      body: `${flood}\r\n--flood\r\n\r\n${eicar().toString('latin1')}\r\n--flood--`,
    })
    const r = await send(gw, text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual([554, '5.7.1', '5.7.1 Message contains a virus'])
    await gw.waitForLog('inbound', /decision check=archive result=archive_limits action=quarantine/)

    const archive = zip([{ name: 'report.txt', data: Buffer.from('quarterly numbers\n'.repeat(50)) }], 'deflated')
    const clean = withAttachment('report.zip', 'application/zip', archive)
    expect((await send(gw, clean.text)).end!.code).toBe(250)
    const raw = await waitForMarker(clean.marker)
    expect(raw).toContain(clean.text.split('\r\n\r\n').slice(1).join('\r\n\r\n'))
    expect(headersOf(raw)).toContain('X-Gateway-Checks: virus=clean (accept)')
    expect(delivered(marker)).toBe(false)
  })
})

// Last: these stop the shared clamd.
describe('clamd stopped', () => {
  it('on_error=accept still refuses viruses while clamd runs', async () => {
    const { text } = testMessage({ from: FROM, to: TO, body: eicar().toString('latin1') })
    expect([(await send(acceptUnscanned, text)).end!.code]).toEqual([554])
  })

  it('on_error=tempfail: 451 4.3.0 with a generic text, nothing delivered', async () => {
    await clamd.stop()
    expect(await clamd.answers()).toBe(false)
    const { text, marker } = testMessage({ from: FROM, to: TO })
    const r = await send(tcpReject, text)
    expect([r.end!.code, r.end!.enhanced, r.end!.text]).toEqual([451, '4.3.0', '4.3.0 Temporary local problem, please try again later'])
    expect(tcpReject.log('inbound')).toMatch(/message not scanned \(connect\)/)
    // the unix socket transport fails the same way
    const viaUnix = await send(unixQuarantine, text)
    expect([viaUnix.end!.code, viaUnix.end!.enhanced]).toEqual([451, '4.3.0'])
    expect(delivered(marker)).toBe(false)
  })

  it('on_error=accept: delivered intact with X-Gateway-Virus: unscanned and the decision recorded', async () => {
    // larger than any stream buffer: the unfinished scan must release the message for the spool
    const body = Array.from({ length: 4000 }, (_, i) => `line ${i} ${'x'.repeat(60)}`).join('\r\n')
    const { text, marker } = testMessage({ from: FROM, to: TO, body })
    const r = await send(acceptUnscanned, text)
    expect([r.end!.code, r.end!.enhanced]).toEqual([250, '2.0.0'])
    const raw = await waitForMarker(marker)
    expect(raw).toContain(body)
    const headers = headersOf(raw)
    expect(headers).toMatch(/^X-Gateway-Virus: unscanned$/m)
    expect(headers).toContain('X-Gateway-Checks: virus=unscanned (accept)')
  })
})

describe('configuration', () => {
  it('refuses a bad server address, naming file and key', async () => {
    const { code, stderr } = await startRefused('inbound', { files: antivirusIni('server=run/clamav/clamd.ctl') })
    expect(code).toBe(78)
    expect(stderr).toMatch(/gateway-antivirus\.ini:2: \[main\] server: .*absolute path/)
  })

  it('refuses to load in the outbound instance (inbound only)', async () => {
    const { code, stderr } = await startRefused('outbound', { files: { 'outbound/config/plugins': 'gateway-core\ngateway-antivirus\ngateway-submission-auth\ngateway-spool\ngateway-routing\n' } })
    expect(code).toBe(78)
    expect(stderr).toMatch(/outbound\/config\/plugins:2: gateway-antivirus: runs in the inbound instance only: remove it from the outbound instance/)
  })
})
