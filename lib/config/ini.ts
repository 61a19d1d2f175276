// A strict reader for Haraka's INI format ([section], key=value, key[]=value,
// ; and # comments). Haraka's own reader skips bad lines with a log message and
// lets a repeated key silently win; for the gateway's files a wrong guess is worse
// than no start, so every problem here is a ConfigError with file and line.

import fs from 'node:fs'

import { ConfigError } from './errors'
import { displayPath } from './paths'

export interface IniValue {
  readonly value: string | string[]
  readonly line: number
}

/** section -> key -> value. Maps, so no key can reach an object prototype. */
export type IniFile = Map<string, Map<string, IniValue>>

const SECTION = /^\s*\[([^\]]+)\]\s*$/
const PARAM = /^\s*([\w.\-@:/]+(\[\])?)\s*=\s*(.*?)\s*$/
const SKIP = /^\s*([;#].*)?$/

export function parseIni(text: string, file: string): IniFile {
  const where = displayPath(file)
  const result: IniFile = new Map([['main', new Map()]])
  let section = result.get('main')!
  let sectionName = 'main'
  text.split(/\r\n|\r|\n/).forEach((raw, index) => {
    const line = index + 1
    if (SKIP.test(raw)) return
    const s = SECTION.exec(raw)
    if (s) {
      sectionName = s[1]!.trim()
      if (result.has(sectionName) && sectionName !== 'main') {
        throw new ConfigError(`${where}:${line}`, `[${sectionName}]`, 'section appears twice')
      }
      section = result.get(sectionName) ?? new Map()
      result.set(sectionName, section)
      return
    }
    const p = PARAM.exec(raw)
    if (!p) throw new ConfigError(`${where}:${line}`, '', `cannot parse "${raw.trim()}" (expected key=value)`)
    const isArray = Boolean(p[2])
    const key = isArray ? p[1]!.slice(0, -2) : p[1]!
    const value = p[3]!
    const existing = section.get(key)
    if (isArray) {
      if (existing && !Array.isArray(existing.value)) {
        throw new ConfigError(`${where}:${line}`, `[${sectionName}] ${key}`, 'mixes key= and key[]=')
      }
      const list = existing ? (existing.value as string[]) : []
      if (value !== '') list.push(value)
      section.set(key, { value: list, line: existing?.line ?? line })
      return
    }
    if (existing) {
      const problem = Array.isArray(existing.value) ? 'mixes key= and key[]=' : `set twice (first on line ${existing.line})`
      throw new ConfigError(`${where}:${line}`, `[${sectionName}] ${key}`, problem)
    }
    section.set(key, { value, line })
  })
  return result
}

/** Reads an INI file; a missing file is an empty configuration (defaults apply). */
export function readIni(file: string): IniFile {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map([['main', new Map()]])
    throw new ConfigError(displayPath(file), '', `cannot read: ${(err as Error).message}`)
  }
  return parseIni(text, file)
}

/** Reads a Haraka "list" file: one entry per line, # comments, blanks ignored. */
export function readList(file: string): { value: string; line: number }[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new ConfigError(displayPath(file), '', `cannot read: ${(err as Error).message}`)
  }
  const out: { value: string; line: number }[] = []
  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const value = raw.replace(/#.*$/, '').trim()
    if (value) out.push({ value, line: i + 1 })
  })
  return out
}
