// Server-side STARTTLS as Haraka does it (a TLSSocket over an accepted socket,
// options copied from one object, plus the listener as `server`): with the
// shared contexts, many real handshakes build one context; a new certificate
// (a new array, as Haraka's reload makes) builds a new one; client-side
// contexts are never shared.

import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'

import { afterAll, beforeAll, expect, it } from 'vitest'

import { ensureTlsMaterial, tlsFiles } from './material'
import { serverContextsBuilt, shareServerTlsContexts } from './shared-server-context'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tls-context-'))
ensureTlsMaterial(dir, 'mx.test')
const files = tlsFiles(dir)
// what tls.ini's options look like once Haraka loaded them: arrays of buffers
const certs: Record<string, unknown> = { key: [fs.readFileSync(files.key)], cert: [fs.readFileSync(files.cert)], dhparam: fs.readFileSync(files.dhparam), honorCipherOrder: true }

let server: net.Server
let port = 0
beforeAll(async () => {
  shareServerTlsContexts()
  server = net.createServer((raw) => {
    const secure = new tls.TLSSocket(raw, { ...certs, server, isServer: true }) // Haraka: { ...certsByHost['*'], server }
    secure.on('error', () => {})
    secure.on('secure', () => secure.end('hello\n'))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as net.AddressInfo).port
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  fs.rmSync(dir, { recursive: true, force: true })
})

function handshake(): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {})
    let got = ''
    c.setEncoding('utf8').on('data', (d: string) => (got += d))
    c.on('end', () => resolve(got))
    c.on('error', reject)
  })
}

it('20 parallel STARTTLS handshakes share one server context; a reloaded certificate gets its own', async () => {
  const before = serverContextsBuilt()
  expect(await Promise.all(Array.from({ length: 20 }, handshake))).toEqual(Array(20).fill('hello\n'))
  expect(serverContextsBuilt() - before).toBe(1)
  certs.cert = [fs.readFileSync(files.cert)] // Haraka's reload: new arrays of the files' contents
  certs.key = [fs.readFileSync(files.key)]
  expect(await handshake()).toBe('hello\n')
  expect(await handshake()).toBe('hello\n')
  expect(serverContextsBuilt() - before).toBe(2)
})

it('client-side options are never shared', () => {
  const a = tls.createSecureContext({ minVersion: 'TLSv1.2' })
  const b = tls.createSecureContext({ minVersion: 'TLSv1.2' })
  expect(a).not.toBe(b)
})
