// Which attachments are not allowed in: by file extension (of every name a part
// or archive entry carries), by declared MIME type, and optionally by content
// (Windows programs whatever their name). Lookups are Sets of lower-cased
// values, so a name like "constructor" or "__proto__" is just a string.

import { baseMimeType, extensionsOf } from './filename'

export type BlockReason = 'extension' | 'mime_type' | 'windows_executable'

export interface Block {
  readonly reason: BlockReason
  /** The extension, MIME type or "PE" that matched. */
  readonly value: string
}

export interface AttachmentPolicyOptions {
  readonly blockedExtensions: Iterable<string>
  readonly blockedMimeTypes: Iterable<string>
  readonly blockExecutableContent: boolean
}

export class AttachmentPolicy {
  private readonly extensions: ReadonlySet<string>
  private readonly mimeTypes: ReadonlySet<string>
  readonly blockExecutableContent: boolean

  constructor(opts: AttachmentPolicyOptions) {
    this.extensions = new Set([...opts.blockedExtensions].map((e) => e.toLowerCase()))
    this.mimeTypes = new Set([...opts.blockedMimeTypes].map((m) => m.toLowerCase()))
    this.blockExecutableContent = opts.blockExecutableContent
  }

  /** The first blocked extension among all readings of all names, if any. */
  checkNames(names: Iterable<string>): Block | undefined {
    for (const name of names) {
      for (const ext of extensionsOf(name)) if (this.extensions.has(ext)) return { reason: 'extension', value: ext }
    }
    return undefined
  }

  checkMimeType(contentType: string): Block | undefined {
    const type = baseMimeType(contentType)
    return this.mimeTypes.has(type) ? { reason: 'mime_type', value: type } : undefined
  }

  checkContent(kind: string): Block | undefined {
    return this.blockExecutableContent && kind === 'windows_executable' ? { reason: 'windows_executable', value: 'PE' } : undefined
  }
}
