// The scanner plugins' engine keys, [main] server and on_error of gateway-spam.ini
// and gateway-antivirus.ini, defined once: the plugins validate them as part of
// their schemas, and `gateway start` reads the same keys to find the engines,
// then overrides them for the inbound instance through their environment
// variables (a private engine's address; on_error=accept when there is no engine).

import path from 'node:path'

import { formatClamdAddress, parseClamdAddress, type ClamdAddress } from './clamd-protocol'
import { ConfigError } from '../config/errors'
import { readIni, type IniFile } from '../config/ini'
import { field, validate, type Field } from '../config/schema'
import { formatHostPort, type HostPort } from '../net/address'

export const ON_ERROR = ['tempfail', 'accept'] as const
export type OnError = (typeof ON_ERROR)[number]

export const RSPAMD_SERVER_ENV = 'GATEWAY_RSPAMD_SERVER'
export const SPAM_ON_ERROR_ENV = 'GATEWAY_SPAM_ON_ERROR'
export const CLAMD_SERVER_ENV = 'GATEWAY_CLAMD_SERVER'
export const VIRUS_ON_ERROR_ENV = 'GATEWAY_VIRUS_ON_ERROR'
/** Set to "off" by `gateway start` when it found no engine (banner: scanning OFF): unscanned mail is then the expected state. */
export const SPAM_ENGINE_ENV = 'GATEWAY_SPAM_ENGINE'
export const VIRUS_ENGINE_ENV = 'GATEWAY_VIRUS_ENGINE'

/** Whether `gateway start` announced this engine as OFF; a value other than "off" is a ConfigError naming the variable. */
export function engineOff(env: string): boolean {
  const value = process.env[env]
  if (value === undefined || value === '') return false
  if (value === 'off') return true
  throw new ConfigError(`environment variable ${env}`, '', `"${value}" is not "off" (or unset)`)
}

/** Debian clamav-daemon's LocalSocket. */
export const CLAMD_DEFAULT_SOCKET = '/run/clamav/clamd.ctl'

/** rspamd's scan worker port. */
export const RSPAMD_PORT = 11333

type EngineFields<T> = {
  server: Field<T>
  on_error: Field<OnError>
}

/** gateway-spam.ini [main] server / on_error. */
export const spamEngineFields: EngineFields<HostPort> = {
  /** rspamd's scan worker (normal worker), host:port. */
  server: field.hostPort({ default: { host: '127.0.0.1', port: RSPAMD_PORT }, defaultPort: RSPAMD_PORT, env: RSPAMD_SERVER_ENV }),
  /** rspamd unreachable, too slow or answering nonsense: tempfail (451, sender retries) or accept unscanned. */
  on_error: field.oneOf(ON_ERROR, { default: 'tempfail', env: SPAM_ON_ERROR_ENV }),
}

/** gateway-antivirus.ini [main] server / on_error. */
export const virusEngineFields: EngineFields<ClamdAddress> = {
  /** clamd's address: host:port (TCPAddr/TCPSocket) or the absolute path of its LocalSocket. */
  server: {
    parse: (raw) => {
      if (Array.isArray(raw)) throw new Error('takes one value, not a list')
      return parseClamdAddress(raw)
    },
    fallback: () => parseClamdAddress(CLAMD_DEFAULT_SOCKET),
    env: CLAMD_SERVER_ENV,
  },
  /** What happens when clamd gives no verdict: tempfail (the sender retries) or accept unscanned. */
  on_error: field.oneOf(ON_ERROR, { default: 'tempfail', env: VIRUS_ON_ERROR_ENV }),
}

export interface EngineSettings<T> {
  readonly server: T
  /** The server as the operator writes it. */
  readonly serverText: string
  /** Set by the environment variable rather than the file or the default. */
  readonly serverFromEnv: boolean
  readonly onError: OnError
  /** Chosen by the operator (environment variable or an on_error= line): the launcher never overrides it. */
  readonly onErrorExplicit: boolean
}

export function readSpamEngineSettings(instanceDir: string): EngineSettings<HostPort> {
  return read(path.join(instanceDir, 'config', 'gateway-spam.ini'), spamEngineFields, formatHostPort)
}

export function readVirusEngineSettings(instanceDir: string): EngineSettings<ClamdAddress> {
  return read(path.join(instanceDir, 'config', 'gateway-antivirus.ini'), virusEngineFields, formatClamdAddress)
}

/**
 * Only these two keys, with the plugin's own rules (environment, then file, then
 * default; a bad value is a ConfigError naming file:line or the variable). The
 * rest of the file is the plugin's business: it validates all of it when the
 * inbound instance starts.
 */
function read<T>(file: string, fields: EngineFields<T>, format: (v: T) => string): EngineSettings<T> {
  const main = readIni(file).get('main')
  const only: IniFile = new Map([['main', new Map([...(main ?? new Map())].filter(([key]) => key === 'server' || key === 'on_error'))]])
  const v = validate(only, file, { main: fields }).main
  const fromEnv = (f: Field<unknown>) => Boolean(f.env && process.env[f.env])
  return {
    server: v.server as T,
    serverText: format(v.server as T),
    serverFromEnv: fromEnv(fields.server),
    onError: v.on_error,
    onErrorExplicit: fromEnv(fields.on_error) || Boolean(main?.has('on_error')),
  }
}
