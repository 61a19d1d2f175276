// TLS for the test Redis servers (one server, Sentinel, Cluster) as a production
// setup has it: a private CA, TLS only (no plain port), every client (the gateway,
// replicas, sentinels, the test's own clients) must present a certificate from
// that CA (tls-auth-clients yes). Certificates name the servers' IP addresses,
// which is what sentinels and cluster nodes announce.

import fs from 'node:fs'
import path from 'node:path'

import type { TlsMaterial } from '../../lib/redis/connection-options'
import type { RedisFiles } from '../../lib/redis/redis-files'
import { TestRedis } from './redis-server'
import { TestCa } from './test-ca'

/** The TLS material the gateway's client factory takes, all three given. */
export type RedisTlsOptions = Required<TlsMaterial>

export class RedisTls {
  readonly ca = new TestCa('Redis Test CA')
  /** The gateway's client certificate and key, as files. */
  readonly clientCertFile: string
  readonly clientKeyFile: string
  private readonly client: RedisTlsOptions

  constructor() {
    const pair = this.ca.issueFor(['gateway-client'], ['clientAuth'])
    this.clientCertFile = path.join(this.ca.dir, 'gateway-client.pem')
    this.clientKeyFile = path.join(this.ca.dir, 'gateway-client.key')
    fs.writeFileSync(this.clientCertFile, pair.cert)
    fs.writeFileSync(this.clientKeyFile, pair.key, { mode: 0o600 })
    this.client = { ca: this.ca.cert, cert: pair.cert, key: pair.key }
  }

  /**
   * redis-server settings (as `--name value` arguments) serving TLS only on `port`
   * of `host`, with a certificate for that address; the same certificate is its
   * client certificate towards a master (replication, tls-replication).
   */
  serverSettings(host: string, port: number): [string, string][] {
    const pair = this.ca.issueFor([host], ['serverAuth', 'clientAuth'])
    const base = path.join(this.ca.dir, `server-${host}-${port}`)
    fs.writeFileSync(`${base}.pem`, pair.cert)
    fs.writeFileSync(`${base}.key`, pair.key, { mode: 0o600 })
    return [
      ['port', '0'],
      ['tls-port', String(port)],
      ['tls-cert-file', `${base}.pem`],
      ['tls-key-file', `${base}.key`],
      ['tls-ca-cert-file', this.ca.certFile],
      ['tls-auth-clients', 'yes'],
      ['tls-replication', 'yes'],
    ]
  }

  /** `serverSettings` as redis-server command-line arguments. */
  serverArgs(host: string, port: number): string[] {
    return this.serverSettings(host, port).flatMap(([k, v]) => [`--${k}`, v])
  }

  /** ioredis `tls` options for the test's own clients (same CA, a client certificate). */
  clientOptions(): RedisTlsOptions {
    return this.client
  }

  /** redis-cli arguments to talk TLS with a client certificate. */
  cliArgs(): string[] {
    return ['--tls', '--cacert', this.ca.certFile, '--cert', this.clientCertFile, '--key', this.clientKeyFile]
  }

  /** The gateway's [redis] tls_* files, as the client factory takes them. */
  gatewayFiles(): RedisFiles {
    return { tlsCaFile: this.ca.certFile, tlsCertFile: this.clientCertFile, tlsKeyFile: this.clientKeyFile }
  }

  /** The gateway's [redis] tls_* settings, as environment variables. */
  gatewayEnv(): Record<string, string> {
    return {
      GATEWAY_REDIS_TLS_CA_FILE: this.ca.certFile,
      GATEWAY_REDIS_TLS_CERT_FILE: this.clientCertFile,
      GATEWAY_REDIS_TLS_KEY_FILE: this.clientKeyFile,
    }
  }

  remove(): void {
    this.ca.remove()
  }
}

/** One redis-server that speaks TLS only and requires client certificates; its URL is rediss://. */
export class TestTlsRedis extends TestRedis {
  constructor(
    private readonly tls: RedisTls,
    host = '127.0.0.1',
  ) {
    super(host)
  }

  override get url(): string {
    return `rediss://${this.host}:${this.port}`
  }

  protected override args(): string[] {
    return ['--bind', this.host, ...this.tls.serverArgs(this.host, this.port), '--save', '', '--appendonly', 'no']
  }
}
