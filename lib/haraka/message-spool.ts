// Where Haraka spools a large message during DATA: connection.js's own copy of
// connection.ini (`exports.cfg`, read once at load and handed to every new
// transaction), whose [main] spool_dir haraka-message-stream 2.x opens its spool
// file in (`<spool_dir>/<transaction uuid>.eml`) once [main] spool_after bytes
// have arrived.
//
// Why no config or hook can do it (haraka 3.3.4): spool_dir is used as written,
// and a relative path would be taken from the process's working directory, which
// differs between `gateway start`, systemd and the tests. The gateway keeps the
// operator's setting relative to the deployment root (like every other path in
// its config) and, during register(), writes the absolute folder back into the
// object connection.js hands to createTransaction (connection.js line 698).
// Caveat: a later change of connection.ini does not reach connection.js at all
// (it never reads the file again), so the folder set here holds until restart.

import { loaderOf, requireInternal, type HarakaInternal, type HarakaSource } from './internal'

export const CONNECTION_MAIN_CONFIG: HarakaInternal = {
  module: './connection',
  member: ['cfg', 'main'],
  kind: 'object',
  usedBy: 'gateway-core (message spool folder)',
}

export const MESSAGE_SPOOL_INTERNALS: readonly HarakaInternal[] = [CONNECTION_MAIN_CONFIG]

/** connection.ini [main] as connection.js holds it: the two spool settings. */
export interface SpoolSettings {
  spool_dir?: unknown
  spool_after?: unknown
}

/** The spool settings connection.js hands to every transaction (read-only use). */
export function messageSpoolSettings(source: HarakaSource): Readonly<SpoolSettings> {
  return requireInternal<SpoolSettings>(source, CONNECTION_MAIN_CONFIG)
}

/** Makes every later transaction of this process spool into `dir` (absolute). */
export function setMessageSpoolDir(source: HarakaSource, dir: string): void {
  requireInternal(source, CONNECTION_MAIN_CONFIG)
  const connection = loaderOf(source)(CONNECTION_MAIN_CONFIG.module) as { cfg: { main: SpoolSettings } }
  connection.cfg.main.spool_dir = dir
}
