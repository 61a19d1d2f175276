// gateway-metrics.ini of an instance: where the Prometheus endpoint listens
// ([http] listen, or off) and the bearer token it then requires. Checked across
// keys: metrics name the checks, volumes and the node, so listening on anything
// but loopback without a token is a configuration error, reported with the file,
// line and key like every other one (exit 78).

import net from 'node:net'

import { ConfigError } from '../config/errors'
import { readIni } from '../config/ini'
import { displayPath } from '../config/paths'
import { field, validate } from '../config/schema'
import type { HostPort } from '../net/address'

export const TOKEN_ENV = 'GATEWAY_METRICS_TOKEN'
const MIN_TOKEN_LENGTH = 16

export const schema = {
  http: {
    /** host:port of the endpoint, or off. Unset: off (the shipped files set loopback addresses). */
    listen: field.hostPortOrOff({ default: null }),
    /** Bearer token required on /metrics; required when `listen` is not a loopback address. */
    token: field.string({ default: '', env: TOKEN_ENV, pattern: new RegExp(`^(|[\\x21-\\x7e]{${MIN_TOKEN_LENGTH},512})$`), patternText: `a token of at least ${MIN_TOKEN_LENGTH} printable characters without spaces` }),
  },
}

export interface MetricsSettings {
  /** Where to serve, or null (off). */
  readonly listen: HostPort | null
  readonly token: string | undefined
}

/** Loads and checks the file (a missing file: off). Throws ConfigError. */
export function loadMetricsSettings(file: string): MetricsSettings {
  const ini = readIni(file)
  const { http } = validate(ini, file, schema)
  if (http.listen && !isLoopback(http.listen.host) && http.token === '') {
    const line = ini.get('http')?.get('listen')?.line
    throw new ConfigError(
      line ? `${displayPath(file)}:${line}` : displayPath(file),
      '[http] listen',
      `${http.listen.host} is not a loopback address: set [http] token (or ${TOKEN_ENV}) so only Prometheus can read the metrics, or listen on 127.0.0.1`,
    )
  }
  return Object.freeze({ listen: http.listen, token: http.token === '' ? undefined : http.token })
}

/** 127.0.0.0/8, ::1 and "localhost": only this host can connect. */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true
  if (net.isIPv4(host)) return host.startsWith('127.')
  if (net.isIPv6(host)) return host === '::1' || /^::ffff:127\./i.test(host)
  return false
}
