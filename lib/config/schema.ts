// A typed schema for INI files: each known key has a parser, a default and
// optionally an environment variable that overrides it. Validation is strict:
// an unknown section or key, a value of the wrong type or a missing required
// value is a ConfigError naming the file (or variable), the key and the problem.
// The result is frozen: configuration is read once at startup, then never changes.

import { ConfigError } from './errors'
import type { IniFile, IniValue } from './ini'
import { displayPath } from './paths'
import { NetworkList, parseHostPort, type HostPort } from '../net/address'

export interface Field<T> {
  readonly parse: (raw: string | string[]) => T
  /** Used when neither the file nor the environment sets the key; absent = required. */
  readonly fallback?: () => T
  /** Environment variable that overrides the file. */
  readonly env?: string
}

export type SectionSchema = Record<string, Field<unknown>>
export type Schema = Record<string, SectionSchema>
export type Infer<S extends Schema> = {
  readonly [Sec in keyof S]: { readonly [K in keyof S[Sec]]: S[Sec][K] extends Field<infer T> ? T : never }
}

interface FieldOptions<T> {
  default?: T
  env?: string
}

function make<T>(parse: (raw: string | string[]) => T, opts: FieldOptions<T>): Field<T> {
  const field: { parse: typeof parse; fallback?: () => T; env?: string } = { parse }
  if ('default' in opts) field.fallback = () => opts.default as T
  if (opts.env) field.env = opts.env
  return field
}

function scalar(raw: string | string[]): string {
  if (Array.isArray(raw)) throw new Error('takes one value, not a list (write key=value, not key[]=value)')
  return raw
}

/** Lists may be written as key[]=a / key[]=b or as one comma-separated value (as env vars are). */
function list(raw: string | string[]): string[] {
  const items = Array.isArray(raw) ? raw : raw.split(',')
  return items.map((s) => s.trim()).filter(Boolean)
}

const DURATION_UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const

export const field = {
  string: (opts: FieldOptions<string> & { pattern?: RegExp; patternText?: string } = {}) =>
    make((raw) => {
      const s = scalar(raw)
      if (opts.pattern && !opts.pattern.test(s)) throw new Error(`"${s}" is not ${opts.patternText ?? 'valid'}`)
      return s
    }, opts),

  int: (opts: FieldOptions<number> & { min?: number; max?: number } = {}) =>
    make((raw) => {
      const s = scalar(raw)
      if (!/^-?\d+$/.test(s)) throw new Error(`"${s}" is not a whole number`)
      const n = Number(s)
      if (opts.min !== undefined && n < opts.min) throw new Error(`${n} is below the minimum ${opts.min}`)
      if (opts.max !== undefined && n > opts.max) throw new Error(`${n} is above the maximum ${opts.max}`)
      return n
    }, opts),

  bool: (opts: FieldOptions<boolean> = {}) =>
    make((raw) => {
      const s = scalar(raw).toLowerCase()
      if (['true', 'yes', '1', 'on'].includes(s)) return true
      if (['false', 'no', '0', 'off'].includes(s)) return false
      throw new Error(`"${s}" is not true or false`)
    }, opts),

  oneOf: <T extends string>(values: readonly T[], opts: FieldOptions<T> = {}) =>
    make((raw) => {
      const s = scalar(raw)
      if (!(values as readonly string[]).includes(s)) throw new Error(`"${s}" is not one of: ${values.join(', ')}`)
      return s as T
    }, opts),

  hostPort: (opts: FieldOptions<HostPort> & { defaultPort?: number } = {}) =>
    make((raw) => parseHostPort(scalar(raw), opts.defaultPort), opts),

  /** One address, or none: an empty value or "off" (how an environment variable switches a default address off). */
  hostPortOrOff: (opts: FieldOptions<HostPort | null> & { defaultPort?: number } = {}) =>
    make((raw) => {
      const s = scalar(raw).trim()
      if (s === '' || s.toLowerCase() === 'off') return null
      if (s.includes(',')) throw new Error(`"${s}" is a list: give one host:port (or off)`)
      try {
        return parseHostPort(s, opts.defaultPort)
      } catch (err) {
        throw new Error(`${(err as Error).message.replace(/ \(expected host:port\)$/, '')} (expected host:port or off)`)
      }
    }, opts),

  hostPortList: (opts: FieldOptions<readonly HostPort[]> & { defaultPort?: number } = {}) =>
    make((raw) => list(raw).map((s) => parseHostPort(s, opts.defaultPort)), opts),

  /** CIDR networks; unset means an empty list. */
  networks: (opts: { env?: string } = {}) => make((raw) => new NetworkList(list(raw)), { default: new NetworkList([]), ...opts }),

  /** A duration written as a number and a unit (s, m, h, d), e.g. "30d"; the value is in seconds. */
  duration: (opts: FieldOptions<number> & { min?: number; max?: number } = {}) =>
    make((raw) => {
      const s = scalar(raw).trim()
      const m = /^(\d+)\s*(s|m|h|d)$/.exec(s)
      if (!m) throw new Error(`"${s}" is not a duration (a number and s, m, h or d, e.g. 30d)`)
      const n = Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS]
      if (opts.min !== undefined && n < opts.min) throw new Error(`${s} is shorter than the minimum ${opts.min} s`)
      if (opts.max !== undefined && n > opts.max) throw new Error(`${s} is longer than the maximum ${opts.max} s`)
      return n
    }, opts),

  stringList: (opts: FieldOptions<readonly string[]> = {}) => make<readonly string[]>(list, opts),

  /** A list turned into a value by `build`, which throws a plain message on a bad entry; unset = build([]). */
  listOf: <T>(build: (items: string[]) => T, opts: { env?: string } = {}) => make((raw) => build(list(raw)), { default: build([]), ...opts }),
}

/** Where a value came from, for error messages. */
type Source = { where: string; key: string }

export function validate<S extends Schema>(ini: IniFile, file: string, schema: S): Infer<S> {
  const where = displayPath(file)
  for (const [section, keys] of ini) {
    const sectionSchema = Object.hasOwn(schema, section) ? schema[section] : undefined
    if (!sectionSchema) {
      if (keys.size === 0 && section === 'main') continue
      const first = keys.values().next().value as IniValue | undefined
      throw new ConfigError(at(where, first), `[${section}]`, `unknown section (known: ${Object.keys(schema).join(', ')})`)
    }
    for (const [key, v] of keys) {
      if (!Object.hasOwn(sectionSchema, key)) {
        throw new ConfigError(at(where, v), `[${section}] ${key}`, `unknown key (known: ${Object.keys(sectionSchema).join(', ')})`)
      }
    }
  }

  const out: Record<string, Record<string, unknown>> = Object.create(null)
  for (const [section, sectionSchema] of Object.entries(schema)) {
    const values: Record<string, unknown> = Object.create(null)
    for (const [key, f] of Object.entries(sectionSchema)) {
      const fromEnv = f.env !== undefined ? process.env[f.env] : undefined
      const fromFile = ini.get(section)?.get(key)
      let raw: string | string[]
      let source: Source
      if (fromEnv !== undefined && fromEnv !== '') {
        raw = fromEnv
        source = { where: `environment variable ${f.env}`, key: '' }
      } else if (fromFile !== undefined) {
        raw = fromFile.value
        source = { where: at(where, fromFile), key: `[${section}] ${key}` }
      } else if (f.fallback) {
        values[key] = f.fallback()
        continue
      } else {
        throw new ConfigError(where, `[${section}] ${key}`, f.env ? `is required (or set ${f.env})` : 'is required')
      }
      try {
        values[key] = f.parse(raw)
      } catch (err) {
        throw new ConfigError(source.where, source.key, (err as Error).message)
      }
    }
    out[section] = values
  }
  return deepFreeze(out) as Infer<S>
}

/** Frozen all the way down: no code can change configuration (or a shared default) after startup. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

function at(where: string, v: IniValue | undefined): string {
  return v ? `${where}:${v.line}` : where
}
