// A private, offline rspamd for tests: cli/launcher/rspamd.ts in a temporary
// folder. Start it once per test file: a cold start takes 12-25 s, so the
// compiled hyperscan files are kept in os.tmpdir()/gateway-rspamd-cache and
// copied in on the next start (1-2 s). A clean machine without that cache works,
// only slower.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { PrivateRspamd, type WaitOptions } from '../../cli/launcher/rspamd'

export const RSPAMD_BIN = process.env.RSPAMD_BIN ?? '/usr/bin/rspamd'
/** Compiled files shared by every test rspamd (and seeded into the launcher tests' var/rspamd/db). */
export const RSPAMD_CACHE_DIR = path.join(os.tmpdir(), 'gateway-rspamd-cache')

export interface RspamdOptions {
  host?: string
  /** The scan worker's port (default: a free one, chosen at start; give one to know the address before). */
  port?: number
  /** Extra local.d files (name -> content), e.g. a regexp.conf with test rules. */
  localD?: Record<string, string>
}

export class TestRspamd extends PrivateRspamd {
  constructor(opts: RspamdOptions = {}) {
    super({
      dir: fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-rspamd-')),
      bin: RSPAMD_BIN,
      host: opts.host,
      ...(opts.port ? { port: opts.port } : {}),
      localD: opts.localD,
      sharedCache: RSPAMD_CACHE_DIR,
    })
  }

  override async start(wait: WaitOptions = {}): Promise<this> {
    if (!fs.existsSync(RSPAMD_BIN)) throw new Error(`${RSPAMD_BIN} not found: apt-get install --no-install-recommends rspamd (or set RSPAMD_BIN)`)
    return super.start(wait)
  }

  /** Stops rspamd and removes its folders. */
  async destroy(): Promise<void> {
    await this.stop()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * Makes sure the shared cache exists (one cold start on a clean machine), then
 * copies it into `dbDir`: what a second `gateway start` in that root would find.
 */
export async function seedRspamdCache(dbDir: string): Promise<void> {
  if (!fs.existsSync(RSPAMD_CACHE_DIR)) {
    const warmUp = new TestRspamd()
    try {
      await warmUp.start()
    } finally {
      await warmUp.destroy() // saves the cache
    }
  }
  fs.mkdirSync(dbDir, { recursive: true })
  if (!fs.existsSync(RSPAMD_CACHE_DIR)) return
  for (const f of fs.readdirSync(RSPAMD_CACHE_DIR)) fs.copyFileSync(path.join(RSPAMD_CACHE_DIR, f), path.join(dbDir, f))
}
