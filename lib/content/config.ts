// The settings of the content checks (<instance>/config/gateway-content.ini),
// validated strictly: the fixed sections through the shared schema, and one
// [rule.<name>] section per content rule, each with its own action. A bad value,
// an invalid regular expression or an incomplete rule is a ConfigError naming the
// file, line, section and key.

import { ConfigError } from '../config/errors'
import { readIni, type IniFile } from '../config/ini'
import { displayPath } from '../config/paths'
import { field, validate, type Field } from '../config/schema'
import { ACTIONS, actionField, type Action } from '../policy/actions'
import type { ArchiveLimits } from './archive-scan'
import type { MimeLimits } from './mime-reader'
import { compilePattern, type ContentRule } from './rules'

/** Program and script types Windows runs or mounts on a double click (after Exchange's and Proxmox's default lists). */
export const DEFAULT_BLOCKED_EXTENSIONS: readonly string[] = [
  'ace', 'ade', 'adp', 'app', 'appinstaller', 'appx', 'appxbundle', 'bat', 'cab', 'chm', 'cmd', 'com', 'cpl', 'dll',
  'exe', 'gadget', 'hta', 'img', 'inf', 'ins', 'iso', 'isp', 'jar', 'jnlp', 'js', 'jse', 'lib', 'lnk', 'mde', 'msc',
  'msi', 'msix', 'msixbundle', 'msp', 'mst', 'pif', 'ps1', 'ps1xml', 'ps2', 'psc1', 'psm1', 'reg', 'scf', 'scr', 'sct',
  'settingcontent-ms', 'shb', 'shs', 'sys', 'vb', 'vbe', 'vbs', 'vhd', 'vhdx', 'vxd', 'wsc', 'wsf', 'wsh', 'xll',
]

/** MIME types that only ever label programs (and message/partial, which hides content in fragments). */
export const DEFAULT_BLOCKED_MIME_TYPES: readonly string[] = [
  'application/hta',
  'application/x-dosexec',
  'application/x-ms-application',
  'application/x-ms-shortcut',
  'application/x-msdos-program',
  'application/x-msdownload',
  'application/x-msi',
  'application/vnd.microsoft.portable-executable',
  'message/partial',
]

const EXTENSION = /^[a-z0-9][a-z0-9_~$-]{0,30}$/
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/
const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/
const HEADER_NAME = /^[!-9;-~]+$/
const MIB = 1024 * 1024

/** A list whose items are normalised and checked one by one. */
function checkedList(def: readonly string[], normalise: (s: string) => string, valid: RegExp, what: string): Field<readonly string[]> {
  const base = field.stringList()
  return {
    parse: (raw) =>
      base.parse(raw).map((item) => {
        const v = normalise(item)
        if (!valid.test(v)) throw new Error(`"${item}" is not ${what}`)
        return v
      }),
    fallback: () => def,
  }
}

const schema = {
  size: {
    /** Answer over-size mail with 552 5.3.4 (the limit is connection.ini [max] bytes). */
    enabled: field.bool({ default: true }),
  },
  attachments: {
    enabled: field.bool({ default: true }),
    action: actionField('reject'),
    blocked_extensions: checkedList(DEFAULT_BLOCKED_EXTENSIONS, (s) => s.toLowerCase().replace(/^\./, ''), EXTENSION, 'a file extension'),
    blocked_mime_types: checkedList(DEFAULT_BLOCKED_MIME_TYPES, (s) => s.toLowerCase(), MIME_TYPE, 'a MIME type (type/subtype)'),
    block_executable_content: field.bool({ default: true }),
  },
  archives: {
    inspect: field.bool({ default: true }),
    unreadable_action: actionField('quarantine'),
    max_depth: field.int({ default: 3, min: 1, max: 10 }),
    max_entries: field.int({ default: 1000, min: 1, max: 100_000 }),
    max_bytes: field.int({ default: 50 * MIB, min: 64 * 1024, max: 1024 * MIB }),
    max_archive_bytes: field.int({ default: 25 * MIB, min: 64 * 1024, max: 1024 * MIB }),
    // MIME parts read over all attached messages of one message (on top of [mime] max_parts per read)
    max_parts: field.int({ default: 1000, min: 1, max: 10_000 }),
    // archive bombs (archive-bomb.ts): a finding of its own, check "archive-bomb"
    bomb_action: actionField('quarantine'),
    // text and office XML compress 3-20:1; zeros 1000:1
    max_ratio: field.int({ default: 100, min: 2, max: 1032 }),
    ratio_min_bytes: field.int({ default: MIB, min: 0, max: 1024 * MIB }),
    // also bounds the inflating done to check real sizes against declared ones
    max_expanded_bytes: field.int({ default: 256 * MIB, min: MIB, max: 4096 * MIB }),
  },
  // How far the MIME structure is read: a message (or attached message) past any of these is
  // the finding "archive" (archive_limits), never passed as clean
  mime: {
    // Exchange's default header limit; mailsplit counts each line as at least 64 bytes
    max_header_bytes: field.int({ default: 256 * 1024, min: 1024, max: 16 * MIB }),
    // Haraka's own default [headers] max_lines
    max_header_lines: field.int({ default: 1000, min: 10, max: 100_000 }),
    max_parts: field.int({ default: 1000, min: 1, max: 100_000 }),
    // real mail nests a few levels (mixed > alternative > related); deeper is built to tire parsers
    max_depth: field.int({ default: 50, min: 1, max: 1000 }),
  },
  rules: {
    max_kib: field.int({ default: 64, min: 1, max: 1024 }),
  },
}

const ruleSchema = {
  header: field.string({ default: '' }),
  body: field.bool({ default: false }),
  pattern: field.string(),
  flags: field.string({ default: '' }),
  action: field.oneOf(ACTIONS),
  tag: field.string({ default: '' }),
}

export interface ContentConfig {
  readonly size: { readonly enabled: boolean }
  readonly attachments: {
    readonly enabled: boolean
    readonly action: Action
    readonly blockedExtensions: readonly string[]
    readonly blockedMimeTypes: readonly string[]
    readonly blockExecutableContent: boolean
  }
  /** undefined when archive inspection is off. */
  readonly archives: (ArchiveLimits & { readonly unreadableAction: Action; readonly bombAction: Action }) | undefined
  /** For what cannot be inspected; also for a message past the [mime] limits or of ambiguous structure, checked even with archive inspection off. */
  readonly unreadableAction: Action
  readonly mime: MimeLimits
  readonly rules: readonly ContentRule[]
  /** Characters of each header value and text part the rules search. */
  readonly ruleMaxChars: number
}

export function loadContentConfig(file: string): ContentConfig {
  const ini = readIni(file)
  const fixed: IniFile = new Map()
  const ruleSections: [string, IniFile][] = []
  for (const [section, keys] of ini) {
    if (section.startsWith('rule.')) ruleSections.push([section, new Map([[section, keys]])])
    else if (/^rules?[^a-z]/i.test(section)) throw new ConfigError(displayPath(file), `[${section}]`, 'a content rule is a section named [rule.<name>]')
    else fixed.set(section, keys)
  }
  const cfg = validate(fixed, file, schema)
  const rules = ruleSections.map(([section, one]) => loadRule(file, section, one))

  return {
    size: { enabled: cfg.size.enabled },
    attachments: {
      enabled: cfg.attachments.enabled,
      action: cfg.attachments.action,
      blockedExtensions: cfg.attachments.blocked_extensions,
      blockedMimeTypes: cfg.attachments.blocked_mime_types,
      blockExecutableContent: cfg.attachments.block_executable_content,
    },
    archives: cfg.archives.inspect
      ? {
          unreadableAction: cfg.archives.unreadable_action,
          maxDepth: cfg.archives.max_depth,
          maxEntries: cfg.archives.max_entries,
          maxBytes: cfg.archives.max_bytes,
          maxArchiveBytes: cfg.archives.max_archive_bytes,
          maxParts: cfg.archives.max_parts,
          bombAction: cfg.archives.bomb_action,
          maxRatio: cfg.archives.max_ratio,
          ratioMinBytes: cfg.archives.ratio_min_bytes,
          maxExpandedBytes: cfg.archives.max_expanded_bytes,
        }
      : undefined,
    unreadableAction: cfg.archives.unreadable_action,
    mime: {
      maxHeaderBytes: cfg.mime.max_header_bytes,
      maxHeaderLines: cfg.mime.max_header_lines,
      maxParts: cfg.mime.max_parts,
      maxDepth: cfg.mime.max_depth,
    },
    rules,
    ruleMaxChars: cfg.rules.max_kib * 1024,
  }
}

function loadRule(file: string, section: string, one: IniFile): ContentRule {
  const where = displayPath(file)
  const keys = one.get(section)!
  const lineOf = (key: string) => {
    const v = keys.get(key) ?? keys.values().next().value
    return v ? `${where}:${v.line}` : where
  }
  const name = section.slice('rule.'.length)
  if (!RULE_NAME.test(name)) throw new ConfigError(lineOf(''), `[${section}]`, 'a rule name has letters, digits, - and _ only (at most 64)')

  const r = validate(one, file, { [section]: ruleSchema })[section]!
  if (r.header && r.body) throw new ConfigError(lineOf('body'), `[${section}] body`, 'a rule matches either a header (header=Name) or the body (body=true), not both')
  if (!r.header && !r.body) throw new ConfigError(lineOf(''), `[${section}]`, 'says neither header=<Name> nor body=true')
  if (r.header && !HEADER_NAME.test(r.header)) throw new ConfigError(lineOf('header'), `[${section}] header`, `"${r.header}" is not a header name`)

  let regex: RegExp
  try {
    compilePattern('x', r.flags) // flags first, so the message names the right key
  } catch (err) {
    throw new ConfigError(lineOf('flags'), `[${section}] flags`, (err as Error).message)
  }
  try {
    regex = compilePattern(r.pattern, r.flags)
  } catch (err) {
    throw new ConfigError(lineOf('pattern'), `[${section}] pattern`, (err as Error).message)
  }
  return {
    name,
    target: r.header ? { kind: 'header', header: r.header } : { kind: 'body' },
    regex,
    action: r.action,
    tag: r.tag,
  }
}
