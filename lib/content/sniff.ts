// Recognises file types by their first bytes, whatever their name says: a
// Windows program renamed "invoice.pdf" is still a program, and a ZIP archive
// named "report.dat" is still an archive whose contents must be checked.

import { looksLikeZip } from './zip'

/** How many leading bytes the checks below need (a PE header sits well inside this). */
export const SNIFF_BYTES = 4096

export type Sniffed = 'zip' | 'windows_executable' | 'other'

export function sniff(prefix: Buffer): Sniffed {
  if (looksLikeZip(prefix)) return 'zip'
  if (isWindowsExecutable(prefix)) return 'windows_executable'
  return 'other'
}

/** A PE file (.exe, .dll, .scr, .cpl, ...): "MZ" and, where the DOS header points, "PE\0\0". */
export function isWindowsExecutable(prefix: Buffer): boolean {
  if (prefix.length < 0x40 || prefix[0] !== 0x4d || prefix[1] !== 0x5a) return false
  const pe = prefix.readUInt32LE(0x3c)
  return pe + 4 <= prefix.length && prefix.readUInt32BE(pe) === 0x50450000
}
