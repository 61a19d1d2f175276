// A throwaway certificate authority for TLS policy tests: a CA and server
// certificates it signs for given host names, made with the openssl command
// (which the gateway already needs for its self-signed STARTTLS pair).

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export interface KeyPair {
  key: string
  cert: string
}

export class TestCa {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-ca-'))
  readonly cert: string
  private readonly keyFile: string
  /** The CA certificate as a file (for servers and clients configured with a path). */
  readonly certFile: string

  constructor(name = 'Gateway Test CA') {
    this.keyFile = path.join(this.dir, 'ca.key')
    this.certFile = path.join(this.dir, 'ca.pem')
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout', this.keyFile, '-out', this.certFile])
    this.cert = fs.readFileSync(this.certFile, 'utf8')
  }

  /** A server certificate for `hosts` (subjectAltName DNS names, or IP addresses), signed by this CA. */
  issue(...hosts: string[]): KeyPair {
    return this.issueFor(hosts, ['serverAuth'])
  }

  /** A certificate for `names` with these extended key usages (clientAuth: one a TLS server accepts from a client). */
  issueFor(names: readonly string[], usage: readonly ('serverAuth' | 'clientAuth')[]): KeyPair {
    const base = path.join(this.dir, `${names[0]}-${Math.floor(Math.random() * 1e9)}`)
    const ext = `${base}.ext`
    const san = names.map((h) => (net.isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',')
    fs.writeFileSync(ext, `subjectAltName=${san}\nextendedKeyUsage=${usage.join(',')}\n`)
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', `/CN=${names[0]}`, '-keyout', `${base}.key`, '-out', `${base}.csr`])
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', this.certFile, '-CAkey', this.keyFile, '-CAcreateserial',
      '-days', '2', '-sha256', '-extfile', ext, '-out', `${base}.pem`])
    return { key: fs.readFileSync(`${base}.key`, 'utf8'), cert: fs.readFileSync(`${base}.pem`, 'utf8') }
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}
