// The folder large messages are spooled to during DATA (connection.ini [main]
// spool_dir / spool_after, read by haraka-message-stream): checked at startup and
// created owner-only. The spool file holds the whole message as received, so it
// must not land in a shared folder: haraka-message-stream's default is /tmp, and
// it creates its files with the default mode (0644 under the usual umask).

import fs from 'node:fs'
import path from 'node:path'

import { ConfigError } from '../config/errors'
import { deploymentRoot, displayPath, instanceConfigDir } from '../config/paths'
import { messageSpoolSettings, setMessageSpoolDir } from '../haraka/message-spool'
import type { HarakaSource } from '../haraka/internal'

export interface SpoolConfig {
  /** connection.ini [main] spool_dir as Haraka parsed it. */
  readonly spoolDir: unknown
  /** connection.ini [main] spool_after as Haraka parsed it. */
  readonly spoolAfter: unknown
  /** The file, for error messages. */
  readonly where: string
  /** What a relative spool_dir is taken from (the deployment root). */
  readonly root: string
  /**
   * Remove spool files a previous run left (killed mid-DATA): whole messages that
   * nothing will ever read. Only where no other process of the instance can be
   * spooling yet (one process, or the cluster master before it forks workers).
   */
  readonly removeLeftovers: boolean
}

export interface Spool {
  /** The absolute folder, created with mode 0700. */
  readonly dir: string
  /** Bytes kept in memory before the message goes to the spool file; -1 = never spool. */
  readonly after: number
}

/** Checks both settings and creates the folder (mode 0700, also when it existed). Throws ConfigError. */
export function prepareSpool(cfg: SpoolConfig): Spool {
  const after = spoolAfter(cfg)
  if (typeof cfg.spoolDir !== 'string' || cfg.spoolDir.trim() === '') {
    throw new ConfigError(cfg.where, '[main] spool_dir', 'not set: large messages would be spooled to /tmp, readable by other local users; set a folder (e.g. var/spool/inbound)')
  }
  const dir = path.resolve(cfg.root, cfg.spoolDir.trim())
  try {
    // only the spool folder itself is owner-only: var/ also holds folders of engines
    // running as other users (rspamd), which must stay traversable
    fs.mkdirSync(path.dirname(dir), { recursive: true })
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    fs.chmodSync(dir, 0o700) // an existing folder is narrowed too: it holds whole messages
    fs.accessSync(dir, fs.constants.W_OK)
  } catch (err) {
    throw new ConfigError(cfg.where, '[main] spool_dir', `${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  if (cfg.removeLeftovers) removeLeftovers(dir)
  return { dir, after }
}

/** haraka-message-stream names its files `<transaction uuid>.eml`; nothing else in the folder is touched. */
function removeLeftovers(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith('.eml')) fs.rmSync(path.join(dir, name), { force: true })
  }
}

function spoolAfter(cfg: SpoolConfig): number {
  const raw = cfg.spoolAfter
  // haraka-message-stream would warn and fall back to 25 MiB in memory: refuse instead
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : ''
  if (!/^-?\d+$/.test(text) || Number(text) < -1) {
    throw new ConfigError(cfg.where, '[main] spool_after', raw === undefined ? 'not set: messages up to 25 MiB would be held in memory; set a size in bytes (e.g. 262144)' : `"${String(raw)}" is not a size in bytes (or -1 for never)`)
  }
  return Number(text)
}

/**
 * The instance's spool folder from its connection.ini, prepared (prepareSpool) and
 * handed to Haraka as an absolute path. Run by gateway-core at startup: every
 * instance spools, whatever else its plugin list holds. Throws ConfigError.
 */
export function useMessageSpool(source: HarakaSource, removeLeftovers: boolean): Spool {
  const settings = messageSpoolSettings(source)
  const spool = prepareSpool({
    spoolDir: settings.spool_dir,
    spoolAfter: settings.spool_after,
    where: displayPath(path.join(instanceConfigDir(), 'connection.ini')),
    root: deploymentRoot(),
    removeLeftovers,
  })
  setMessageSpoolDir(source, spool.dir)
  return spool
}
