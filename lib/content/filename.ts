// File names as the recipient's computer will see them: which extension(s) a
// name really has (the names a MIME part carries: part-names.ts). Attackers rely on the
// differences between what a filter reads and what Windows runs: "a.pdf.exe",
// "a.exe." and "a.exe " (Windows drops trailing dots and spaces), "A.EXE",
// invisible characters, full-width letters, a NUL byte that truncates the name,
// a path inside the name, two different names in two headers.

/** Characters Windows does not show and that do not change what runs (format and control characters). */
const INVISIBLE = /[\p{Cf}\p{Cc}]/gu
const TRAILING_DOTS_SPACES = /[\s.]+$/u

/**
 * The extensions a name may be opened as, lower-cased, without the dot. Usually
 * one; more when the name can be read two ways (cut at a NUL or control character).
 */
export function extensionsOf(name: string): string[] {
  const base = baseName(name)
  const readings = new Set<string>([base.replace(INVISIBLE, '')])
  // Some unpackers and old mail clients end the name at the first NUL/control character.
  const cut = /[\p{Cc}]/u.exec(base)
  if (cut) readings.add(base.slice(0, cut.index))
  const out = new Set<string>()
  for (const reading of readings) {
    const cleaned = reading.normalize('NFKC').replace(TRAILING_DOTS_SPACES, '')
    const dot = cleaned.lastIndexOf('.')
    if (dot >= 0 && dot < cleaned.length - 1) out.add(cleaned.slice(dot + 1).toLowerCase())
  }
  return [...out]
}

/** The last path component (archive entries and some mail clients include folders, with / or \). */
export function baseName(name: string): string {
  const parts = name.split(/[\\/]/)
  // "dir/" is a directory entry: its own name is the last non-empty part
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i]) return parts[i]!
  return ''
}

/** The base MIME type, lower-cased: "Application/X-MSDownload; name=a" -> "application/x-msdownload". */
export function baseMimeType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase()
}
