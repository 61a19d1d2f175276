// Unit tests for gateway-content.ini: defaults, the shipped file, rule sections, and the
// ConfigErrors (file, line, section, key, problem) for everything an operator can get wrong.
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../config/paths'
import { DEFAULT_BLOCKED_EXTENSIONS, loadContentConfig } from './config'
import { iniFiles } from '../../test/helpers/config-errors'

const { dir, load, errorOf } = iniFiles('content-config', loadContentConfig, 'c')

describe('loadContentConfig', () => {
  it('has safe defaults when the file is missing, and the shipped file changes none of them', () => {
    const missing = loadContentConfig(path.join(dir, 'absent.ini'))
    expect(missing.size.enabled).toBe(true)
    expect(missing.attachments).toMatchObject({ enabled: true, action: 'reject', blockExecutableContent: true })
    expect(missing.attachments.blockedExtensions).toEqual(DEFAULT_BLOCKED_EXTENSIONS)
    for (const ext of ['exe', 'scr', 'com', 'pif', 'bat', 'cmd', 'js', 'jse', 'vbs', 'vbe', 'wsf', 'wsh', 'hta', 'cpl', 'msi', 'msp', 'jar', 'ps1', 'reg', 'lnk', 'iso', 'img']) {
      expect(missing.attachments.blockedExtensions).toContain(ext)
    }
    expect(missing.archives).toMatchObject({ unreadableAction: 'quarantine', maxDepth: 3, maxEntries: 1000, maxParts: 1000 })
    expect(missing.archives).toMatchObject({ bombAction: 'quarantine', maxRatio: 100, ratioMinBytes: 1024 * 1024, maxExpandedBytes: 256 * 1024 * 1024 })
    expect(missing.unreadableAction).toBe('quarantine')
    expect(missing.mime).toEqual({ maxHeaderBytes: 256 * 1024, maxHeaderLines: 1000, maxParts: 1000, maxDepth: 50 })
    expect(missing.rules).toEqual([])
    expect(missing.ruleMaxChars).toBe(64 * 1024)
    expect(loadContentConfig(path.join(GATEWAY_ROOT, 'inbound', 'config', 'gateway-content.ini'))).toEqual(missing)
  })

  it('reads lists, actions and limits', () => {
    const cfg = load('[attachments]\naction=monitor\nblocked_extensions=.EXE, Scr\nblocked_mime_types[]=Application/X-Foo\n[archives]\ninspect=false\nunreadable_action=tag\n')
    expect(cfg.attachments.action).toBe('monitor')
    expect(cfg.attachments.blockedExtensions).toEqual(['exe', 'scr'])
    expect(cfg.attachments.blockedMimeTypes).toEqual(['application/x-foo'])
    expect(cfg.archives).toBeUndefined()
    // still the action for a message past the [mime] limits, which are checked without archive inspection
    expect(cfg.unreadableAction).toBe('tag')
    expect(load('[archives]\nmax_parts=50\n').archives?.maxParts).toBe(50)
    expect(load('[archives]\nbomb_action=reject\nmax_ratio=50\nratio_min_bytes=0\nmax_expanded_bytes=1048576\n').archives).toMatchObject({
      bombAction: 'reject',
      maxRatio: 50,
      ratioMinBytes: 0,
      maxExpandedBytes: 1024 * 1024,
    })
    expect(load('[mime]\nmax_header_bytes=65536\nmax_header_lines=200\nmax_parts=300\nmax_depth=8\n').mime).toEqual({
      maxHeaderBytes: 65536,
      maxHeaderLines: 200,
      maxParts: 300,
      maxDepth: 8,
    })
  })

  it('compiles rules with their own actions, flags and tags', () => {
    const cfg = load(
      '[rule.no-wire-fraud]\nheader=Subject\npattern=wire\\s+transfer\nflags=i\naction=quarantine\n\n[rule.scam]\nbody=true\npattern=double your (btc|bitcoin)\naction=tag\ntag=suspected scam\n',
    )
    expect(cfg.rules.map((r) => [r.name, r.target, r.action, r.tag])).toEqual([
      ['no-wire-fraud', { kind: 'header', header: 'Subject' }, 'quarantine', ''],
      ['scam', { kind: 'body' }, 'tag', 'suspected scam'],
    ])
    expect(cfg.rules[0]!.regex.test('Urgent WIRE   Transfer')).toBe(true)
    expect(cfg.rules[1]!.regex.test('Double your BTC')).toBe(false) // no i flag
  })

  it.each([
    ['[rule.bad]\nheader=Subject\npattern=(unclosed\naction=reject\n', /c\d+\.ini:3: \[rule\.bad\] pattern: invalid regular expression: .*Unterminated group/],
    ['[rule.ci]\nheader=Subject\npattern=(?i)wire transfer\naction=reject\n', /:3: \[rule\.ci\] pattern: inline flags like "\(\?i\)" do not exist .* write flags=i/],
    ['[rule.f]\nheader=Subject\npattern=x\nflags=ig\naction=reject\n', /:4: \[rule\.f\] flags: flag "g" is not one of i, m, s, u/],
    ['[rule.f]\nheader=Subject\npattern=x\nflags=ii\naction=reject\n', /:4: \[rule\.f\] flags: flags "ii" repeat a flag/],
    ['[rule.e]\nheader=Subject\npattern=\naction=reject\n', /:3: \[rule\.e\] pattern: must not be empty/],
    ['[rule.a]\nheader=Subject\npattern=x\n', /\[rule\.a\] action: is required/],
    ['[rule.a]\nheader=Subject\npattern=x\naction=drop\n', /:4: \[rule\.a\] action: "drop" is not one of: reject, tempfail, quarantine, tag, accept, monitor/],
    ['[rule.both]\nheader=Subject\nbody=true\npattern=x\naction=tag\n', /:3: \[rule\.both\] body: a rule matches either a header .* not both/],
    ['[rule.none]\npattern=x\naction=tag\n', /:2: \[rule\.none\]: says neither header=<Name> nor body=true/],
    ['[rule.h]\nheader=Sub ject\npattern=x\naction=tag\n', /:2: \[rule\.h\] header: "Sub ject" is not a header name/],
    ['[rule.x]\nheader=Subject\npattern=x\naction=tag\ncolour=red\n', /:5: \[rule\.x\] colour: unknown key/],
    ['[rule.b@d]\nheader=Subject\npattern=x\naction=tag\n', /\[rule\.b@d\]: a rule name has letters, digits/],
    ['[rules.x]\nheader=Subject\n', /\[rules\.x\]: a content rule is a section named \[rule\.<name>\]/],
    ['[attachments]\nblocked_extensions=exe,e x e\n', /:2: \[attachments\] blocked_extensions: "e x e" is not a file extension/],
    ['[attachments]\nblocked_mime_types=application\n', /:2: \[attachments\] blocked_mime_types: "application" is not a MIME type/],
    ['[attachments]\naction=bounce\n', /:2: \[attachments\] action: "bounce" is not one of/],
    ['[archives]\nmax_depth=0\n', /:2: \[archives\] max_depth: 0 is below the minimum 1/],
    ['[archives]\nmax_parts=0\n', /:2: \[archives\] max_parts: 0 is below the minimum 1/],
    ['[archives]\nbomb_action=explode\n', /:2: \[archives\] bomb_action: "explode" is not one of/],
    ['[archives]\nmax_ratio=1\n', /:2: \[archives\] max_ratio: 1 is below the minimum 2/],
    ['[archives]\nmax_expanded_bytes=1000\n', /:2: \[archives\] max_expanded_bytes: 1000 is below the minimum 1048576/],
    ['[size]\nmax=10\n', /:2: \[size\] max: unknown key/],
    ['[mime]\nmax_depth=0\n', /:2: \[mime\] max_depth: 0 is below the minimum 1/],
    ['[mime]\nmax_header_bytes=100\n', /:2: \[mime\] max_header_bytes: 100 is below the minimum 1024/],
    ['[mime]\nmax_lines=10\n', /:2: \[mime\] max_lines: unknown key/],
  ])('refuses %j', (text, expected) => {
    expect(errorOf(text)).toMatch(expected)
  })
})
