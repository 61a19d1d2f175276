// Unit tests for file-name handling: the extensions Windows would see, names in MIME headers, MIME base types.
import { describe, expect, it } from 'vitest'

import { baseMimeType, baseName, extensionsOf, namesInHeaders } from './filename'

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

describe('namesInHeaders', () => {
  it('collects filename= and name= from both headers, quoted or not, without duplicates', () => {
    expect(namesInHeaders('attachment; filename="a b.pdf"', 'application/pdf; name=a.exe')).toEqual(['a b.pdf', 'a.exe'])
    expect(namesInHeaders('attachment; filename="x.pdf"', 'application/pdf; name="x.pdf"')).toEqual(['x.pdf'])
  })

  it('reads the plain form Haraka appends for RFC 2231 parameters, and escaped quotes', () => {
    expect(namesInHeaders(`attachment; filename*=UTF-8''evil.exe filename="evil.exe";`)).toEqual(['evil.exe'])
    expect(namesInHeaders('attachment; filename="say \\"hi\\".js"')).toEqual(['say "hi".js'])
  })

  it('is not fooled by parameters that merely end in "name"', () => {
    expect(namesInHeaders('attachment; xname=evil.exe; filename=ok.txt')).toEqual(['ok.txt'])
    expect(namesInHeaders('')).toEqual([])
  })
})

describe('baseMimeType', () => {
  it('lower-cases and drops parameters', () => {
    expect(baseMimeType('Application/X-MSDownload; name="a.exe"')).toBe('application/x-msdownload')
    expect(baseMimeType('')).toBe('')
  })
})
