// Unit tests for the names a MIME part carries, read from its headers as
// mailsplit hands them over: every header, both parameters, RFC 2231 and
// RFC 2047 forms decoded, the form as written kept too.
import { Headers } from '@zone-eu/mailsplit'
import { describe, expect, it } from 'vitest'

import { partNames } from './part-names'

const names = (...lines: string[]) => partNames(new Headers(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`)))

describe('partNames', () => {
  it('collects filename= and name= from both headers, quoted or not, without duplicates', () => {
    expect(names('Content-Disposition: attachment; filename="a b.pdf"', 'Content-Type: application/pdf; name=a.exe')).toEqual(['a b.pdf', 'a.exe'])
    expect(names('Content-Disposition: attachment; filename="x.pdf"', 'Content-Type: application/pdf; name="x.pdf"')).toEqual(['x.pdf'])
    expect(names('Content-Type: text/plain')).toEqual([])
  })

  it('reads every occurrence of a header, not only the first', () => {
    expect(names('Content-Disposition: attachment; filename=ok.pdf', 'Content-Disposition: attachment; filename=evil.exe')).toEqual(['ok.pdf', 'evil.exe'])
  })

  it("decodes RFC 2231 parameters (charset, percent escapes, continuations): filename*=UTF-8''evil%2Eexe is evil.exe", () => {
    expect(names("Content-Disposition: attachment; filename*=UTF-8''evil%2Eexe")).toEqual(['evil.exe'])
    expect(names("Content-Disposition: attachment; filename*0*=UTF-8''ev; filename*1=il.; filename*2=scr")).toEqual(['evil.scr'])
    expect(names("Content-Type: application/octet-stream; name*=iso-8859-1'de'r%E9sum%E9.exe")).toEqual(['résumé.exe'])
  })

  it('decodes RFC 2047 encoded words in a parameter, and keeps the name as written', () => {
    expect(names('Content-Disposition: attachment; filename="=?UTF-8?B?ZXZpbC5leGU=?="')).toEqual(['evil.exe', '=?UTF-8?B?ZXZpbC5leGU=?='])
    expect(names('Content-Type: application/octet-stream; name="=?utf-8?q?invoice=2Epdf=2Ejs?="')).toEqual(['invoice.pdf.js', '=?utf-8?q?invoice=2Epdf=2Ejs?='])
  })

  it('reads raw UTF-8 names (RFC 6532 headers, as SMTPUTF8 senders write them)', () => {
    expect(names('Content-Disposition: attachment; filename="rapport_\u00e9t\u00e9.exe"')).toEqual(['rapport_\u00e9t\u00e9.exe'])
  })

  it('reads a parameter folded over several lines and escaped quotes', () => {
    expect(names('Content-Type: application/octet-stream;', '\tname', ' = "run.bat"')).toEqual(['run.bat'])
    expect(names('Content-Disposition: attachment; filename="say \\"hi\\".js"')).toEqual(['say "hi".js'])
  })

  it('is not fooled by parameters that merely end in "name"', () => {
    expect(names('Content-Disposition: attachment; xname=evil.exe; filename=ok.txt')).toEqual(['ok.txt'])
  })
})
