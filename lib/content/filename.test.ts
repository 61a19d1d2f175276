// Unit tests for file-name handling: the extensions Windows would see, MIME base types.
import { describe, expect, it } from 'vitest'

import { baseMimeType, baseName, extensionsOf } from './filename'

describe('extensionsOf', () => {
  it.each([
    ['invoice.pdf', ['pdf']],
    ['INVOICE.PDF.EXE', ['exe']],
    ['invoice.pdf.exe', ['exe']],
    ['evil.exe.', ['exe']],
    ['evil.exe . . ', ['exe']],
    ['evil.ex\u200Be', ['exe']], // zero-width space inside the extension
    ['evil.exe\u202E', ['exe']], // a right-to-left override at the end
    ['evil.ｅｘｅ', ['exe']], // full-width letters
    ['folder/sub\\evil.scr', ['scr']],
    ['.lnk', ['lnk']],
    ['README', []],
    ['name.', []],
    ['', []],
  ])('%j -> %j', (name, exts) => {
    expect(extensionsOf(name)).toEqual(exts)
  })

  it('reads a name with a NUL both ways: whole and cut at the NUL', () => {
    expect(extensionsOf('evil.exe\u0000.txt').sort()).toEqual(['exe', 'txt'])
  })
})

describe('baseName', () => {
  it('takes the last path component, also of a directory entry', () => {
    expect(baseName('a/b/c.zip')).toBe('c.zip')
    expect(baseName('a\\b.exe')).toBe('b.exe')
    expect(baseName('dir/')).toBe('dir')
  })
})

describe('baseMimeType', () => {
  it('lower-cases and drops parameters', () => {
    expect(baseMimeType('Application/X-MSDownload; name="a.exe"')).toBe('application/x-msdownload')
    expect(baseMimeType('')).toBe('')
  })
})
