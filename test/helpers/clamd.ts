// A private, real clamd for tests: cli/launcher/clamd.ts in a temporary folder
// (short path: the unix socket's limit is 107 bytes) with the demo signature for
// the EICAR test string, a unix socket and a free loopback TCP port.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { PrivateClamd, type WaitOptions } from '../../cli/launcher/clamd'

export { EICAR_SIGNATURE, eicar } from '../../cli/launcher/clamd'

export const CLAMD_BIN = process.env.CLAMD_BIN ?? '/usr/sbin/clamd'

export interface TestClamdOptions {
  /** Loopback address for TCPAddr (default 127.0.0.1). */
  host?: string
  /** TCPSocket (default: a free port, chosen at start; give one to know the address before). */
  port?: number
  /** clamd.conf StreamMaxLength (default 1M: tests can exceed it cheaply). */
  streamMaxLength?: string
}

export class TestClamd extends PrivateClamd {
  constructor(opts: TestClamdOptions = {}) {
    super({
      dir: fs.mkdtempSync(path.join(os.tmpdir(), 'gw-clamd-')),
      bin: CLAMD_BIN,
      host: opts.host,
      ...(opts.port ? { port: opts.port } : {}),
      localSocket: true,
      streamMaxLength: opts.streamMaxLength ?? '1M',
    })
  }

  override async start(wait: WaitOptions = {}): Promise<this> {
    if (!fs.existsSync(CLAMD_BIN)) throw new Error(`${CLAMD_BIN} is missing: apt-get install clamav-daemon`)
    return super.start(wait)
  }

  async dispose(): Promise<void> {
    await this.stop()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}
