// Helpers for configuration unit tests: catch the ConfigError a loader throws,
// and load throwaway .ini files from a temporary folder.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, expect } from 'vitest'

import { ConfigError } from '../../lib/config/errors'

/** Runs `fn`, expecting a ConfigError, and returns it. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error('expected a ConfigError, nothing was thrown')
}

/**
 * `load(text)` writes `text` to a fresh .ini file and passes its path to `loader`;
 * `errorOf(text)` returns the error message (file path stripped) or "no error".
 * `dir` is the temporary folder (removed after the file's tests).
 */
export function iniFiles<T>(prefix: string, loader: (file: string) => T, fileStem = 'f'): { dir: string; load: (text: string) => T; errorOf: (text: string) => string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`))
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
  let n = 0
  const load = (text: string): T => {
    const file = path.join(dir, `${fileStem}${++n}.ini`)
    fs.writeFileSync(file, text)
    return loader(file)
  }
  const errorOf = (text: string): string => {
    try {
      load(text)
    } catch (err) {
      return (err as Error).message.replace(dir + path.sep, '')
    }
    return 'no error'
  }
  return { dir, load, errorOf }
}
