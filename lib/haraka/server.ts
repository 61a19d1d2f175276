// The listen addresses of Haraka's SMTP server (server.js Server.cfg.main.listen),
// set from config/gateway.ini (or the environment) during register(): Haraka
// reads them when it opens its sockets (setup_smtp_listeners, line 547, via
// get_listen_addrs, line 281), after every plugin has registered.
//
// Why no config or hook can do it (haraka 3.3.4): the only source Haraka knows is
// smtp.ini (load_smtp_ini, line 32: listen, or listen_host and port); no
// environment variable or hook sets it. Writing smtp.ini would make two files
// own one setting (gateway-core refuses `listen` in smtp.ini for that reason).
// Caveat: a change to smtp.ini replaces Server.cfg (its watch callback), but the
// sockets are open by then; a cluster worker runs register() again itself.

import { loaderOf, requireInternal, type HarakaInternal, type HarakaSource } from './internal'

export const SERVER_MAIN_CONFIG: HarakaInternal = {
  module: './server',
  member: ['cfg', 'main'],
  kind: 'object',
  usedBy: 'gateway-core (listen addresses)',
}
export const GET_LISTEN_ADDRS: HarakaInternal = {
  module: './server',
  member: ['get_listen_addrs'],
  kind: 'function',
  usedBy: 'gateway-core (listen addresses)',
}

export const SERVER_INTERNALS: readonly HarakaInternal[] = [SERVER_MAIN_CONFIG, GET_LISTEN_ADDRS]

interface HarakaServer {
  cfg: { main: { listen?: string } }
}

/** Makes Haraka listen on `listen` ("host:port,[v6]:port", smtp.ini's format); returns what Haraka will read. */
export function setListen(source: HarakaSource, listen: string): string {
  requireInternal(source, SERVER_MAIN_CONFIG)
  requireInternal(source, GET_LISTEN_ADDRS)
  const server = loaderOf(source)(SERVER_MAIN_CONFIG.module) as HarakaServer
  server.cfg.main.listen = listen
  return server.cfg.main.listen
}
