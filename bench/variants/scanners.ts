// The content scanners of variant "gateway-inbound-scan": one private rspamd and
// one private clamd (test/helpers/rspamd.ts, clamd.ts) per benchmark run, started
// once because their start is slow; their processes count as the server's.

import fs from 'node:fs'
import path from 'node:path'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import { CLAMD_BIN, TestClamd } from '../../test/helpers/clamd'
import { RSPAMD_BIN, TestRspamd } from '../../test/helpers/rspamd'
import { pidsUsing } from '../measure/find-pids'

export class Scanners {
  readonly rspamd: TestRspamd
  readonly clamd: TestClamd

  constructor(host: string) {
    this.rspamd = new TestRspamd({ host, port: 11333 })
    this.clamd = new TestClamd({ host, port: 3310 })
  }

  static installed(): boolean {
    return fs.existsSync(RSPAMD_BIN) && fs.existsSync(CLAMD_BIN)
  }

  async start(): Promise<void> {
    await Promise.all([this.rspamd.start({ timeoutMs: 180_000 }), this.clamd.start()])
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.rspamd.destroy(), this.clamd.dispose()])
  }

  pids(): number[] {
    return [...pidsUsing(this.rspamd.dir), ...pidsUsing(this.clamd.dir)]
  }

  /** The shipped scanner ini files pointed at these scanners. */
  inboundFiles(): Record<string, string> {
    const shipped = (file: string) => fs.readFileSync(path.join(GATEWAY_ROOT, 'inbound', 'config', file), 'utf8')
    const withServer = (ini: string, server: string) => ini.replace(/^server=.*\n/m, '').replace(/^\[main\]$/m, `[main]\nserver=${server}`)
    return {
      'inbound/config/gateway-spam.ini': withServer(shipped('gateway-spam.ini'), this.rspamd.address),
      'inbound/config/gateway-antivirus.ini': withServer(shipped('gateway-antivirus.ini'), this.clamd.address),
    }
  }
}

