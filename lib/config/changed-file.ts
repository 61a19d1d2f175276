// A data file administrators edit while the gateway runs (users, sender scopes,
// valid recipients): checked on use, re-read only when it changed on disk, so a
// CLI change or an edit takes effect without a restart and costs one stat().

import fs from 'node:fs'

export class ChangedFile {
  private stamp = ''

  constructor(readonly file: string) {}

  /**
   * The file's text if it changed since the last call, `null` if it does not
   * exist (any more), `undefined` if nothing changed. A file that exists but
   * cannot be read throws: the caller must fail closed, not act as if it were
   * absent (an unreadable list of restrictions is not "no restrictions").
   */
  readIfChanged(): string | null | undefined {
    let stamp = 'missing'
    try {
      const st = fs.statSync(this.file)
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') stamp = `error:${(err as NodeJS.ErrnoException).code}`
    }
    if (stamp === this.stamp && !stamp.startsWith('error:')) return undefined
    this.stamp = stamp
    if (stamp === 'missing') return null
    try {
      return fs.readFileSync(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null // removed between stat and read
      this.stamp = '' // try again next time
      throw new Error(`cannot read ${this.file}: ${(err as Error).message}`)
    }
  }
}
