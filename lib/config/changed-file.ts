// A data file administrators edit while the gateway runs (users, sender scopes,
// valid recipients): checked on use, re-read only when it changed on disk, so a
// CLI change or an edit takes effect without a restart and costs one stat().

import fs from 'node:fs'

export class ChangedFile {
  private stamp = ''

  constructor(readonly file: string) {}

  /**
   * The file's text if it changed since the last call, `null` if it has just
   * disappeared (or is missing on the first call), `undefined` if nothing changed.
   */
  readIfChanged(): string | null | undefined {
    let stamp = 'missing'
    try {
      const st = fs.statSync(this.file)
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`
    } catch {
      // missing or unreadable: treated as absent
    }
    if (stamp === this.stamp) return undefined
    this.stamp = stamp
    if (stamp === 'missing') return null
    try {
      return fs.readFileSync(this.file, 'utf8')
    } catch {
      return null // removed between stat and read
    }
  }
}
