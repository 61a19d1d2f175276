// Unit tests for the Haraka compatibility gate: the version check, and the shape
// check of every internal against the installed Haraka and against fakes that
// lack exactly that internal.

import fs from 'node:fs'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { GATEWAY_ROOT } from '../config/paths'
import { checkHaraka, CHECKED_HARAKA_VERSION, HARAKA_INTERNALS, internalName, OVERRIDE_ENV } from './index'
import { HEADER_FIELDS } from './fields'
import { harakaPackageRequire, HarakaIncompatibleError, requireInternal, type HarakaLoader } from './internal'
import { versionVerdict } from './version'

/** The installed Haraka, loaded as a plugin's haraka_require would. */
const real: HarakaLoader = (p) => harakaPackageRequire()(p)

/**
 * `load`, except that the module `module` lacks `member`: a stand-in for each
 * object on the path that inherits everything else from the real one.
 */
function lacking(load: HarakaLoader, module: string, member: readonly string[]): HarakaLoader {
  const hide = (value: object, [key, ...rest]: readonly string[]): object => {
    const child = rest.length > 0 ? hide(Reflect.get(value, key!) as object, rest) : undefined
    if (typeof value !== 'function') return Object.create(value, { [key!]: { value: child, enumerable: true } }) as object
    // a class: still constructible (Header is probed with `new`), with its own `prototype` replaced
    const stand = function (...args: unknown[]) {
      return Reflect.construct(value as new (...a: unknown[]) => object, args)
    }
    Object.setPrototypeOf(stand, value)
    Object.defineProperty(stand, key!, { value: child })
    return stand
  }
  return (p) => (p === module ? hide(load(p) as object, member) : load(p))
}

function startupError(load: HarakaLoader, env: NodeJS.ProcessEnv = {}): string {
  try {
    checkHaraka(load, env)
  } catch (err) {
    expect(err).toBeInstanceOf(HarakaIncompatibleError)
    return (err as Error).message
  }
  throw new Error('checkHaraka accepted it')
}

const withVersion = (version: string): HarakaLoader => (p) => (p === './package.json' ? { version } : real(p))

describe('the version gate', () => {
  it('is the version package.json pins exactly, and the one installed', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(GATEWAY_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    expect(pkg.dependencies.haraka).toBe(CHECKED_HARAKA_VERSION)
    expect(checkHaraka(real, {})).toEqual({ version: CHECKED_HARAKA_VERSION })
  })

  it('refuses another version in one line naming both versions, the checklist and the override', () => {
    const message = startupError(withVersion('3.4.0'))
    expect(message).toBe(
      `Haraka 3.4.0 is installed, but the gateway's patches of Haraka internals were checked against ${CHECKED_HARAKA_VERSION}: ` +
        `install haraka@${CHECKED_HARAKA_VERSION} (npm ci), or go through lib/haraka/UPGRADING.md for 3.4.0 and start with ${OVERRIDE_ENV}=3.4.0`,
    )
    expect(message).not.toContain('\n')
  })

  it('accepts another version the operator checked, with a warning; an override for a different version does not count', () => {
    const checked = checkHaraka(withVersion('3.4.0'), { [OVERRIDE_ENV]: '3.4.0' })
    expect(checked.version).toBe('3.4.0')
    expect(checked.warning).toMatch(/^running on Haraka 3\.4\.0, checked by the operator \(GATEWAY_HARAKA_CHECKED=3\.4\.0\)/)
    expect(startupError(withVersion('3.4.1'), { [OVERRIDE_ENV]: '3.4.0' })).toMatch(/^Haraka 3\.4\.1 is installed, .*\(GATEWAY_HARAKA_CHECKED=3\.4\.0 names another version\)/)
  })

  it('an override changes nothing on the checked version', () => {
    expect(versionVerdict(CHECKED_HARAKA_VERSION, { [OVERRIDE_ENV]: '9.9.9' })).toEqual({ kind: 'checked' })
  })

  it('still checks every internal when the operator overrode the version', () => {
    const load = lacking(withVersion('3.4.0'), './connection', ['Connection', 'prototype', 'cmd_mail'])
    expect(startupError(load, { [OVERRIDE_ENV]: '3.4.0' })).toMatch(/^Haraka 3\.4\.0 lacks what the gateway relies on: connection\.js Connection\.prototype\.cmd_mail is undefined/)
  })

  it('names an unreadable package.json', () => {
    expect(startupError((p) => (p === './package.json' ? {} : real(p)))).toMatch(/^Haraka lacks what the gateway relies on: package\.json version is undefined, not a string/)
  })
})

describe('the shape of every internal', () => {
  it('lists each internal once', () => {
    const names = HARAKA_INTERNALS.map(internalName)
    expect(new Set(names).size).toBe(names.length)
  })

  it('the checklist is for the checked version and names every internal', () => {
    const checklist = fs.readFileSync(path.join(__dirname, 'UPGRADING.md'), 'utf8')
    expect(checklist).toContain(`**haraka ${CHECKED_HARAKA_VERSION}**`)
    for (const i of HARAKA_INTERNALS) {
      const file = i.module.replace(/^\.\//, '').replace(/^haraka-net-utils\//, '')
      expect(checklist, internalName(i)).toContain(file)
      expect(checklist, internalName(i)).toContain(i.member.at(-1)!)
    }
  })

  it.each(HARAKA_INTERNALS.map((i) => [internalName(i), i] as const))('a Haraka without %s stops startup naming it', (name, i) => {
    const message = startupError(lacking(real, i.module, i.member.length > 0 ? i.member : ['nothing']))
    expect(message.startsWith(`Haraka ${CHECKED_HARAKA_VERSION} lacks what the gateway relies on: ${name} is undefined, not a${i.kind === 'object' ? 'n' : ''} ${i.kind} (used by ${i.usedBy}); see lib/haraka/UPGRADING.md`)).toBe(true)
    expect(message).not.toContain('\n')
  })

  it('names a module that cannot be loaded', () => {
    const load: HarakaLoader = (p) => {
      if (p === './outbound/client_pool') throw new Error("Cannot find module './outbound/client_pool'\nRequire stack: ...")
      return real(p)
    }
    expect(startupError(load)).toMatch(/: outbound\/client_pool\.js get_client: cannot be loaded \(Cannot find module '\.\/outbound\/client_pool'\) \(used by gateway-tcp-nodelay\)/)
  })

  it('names every missing internal, the first one first', () => {
    const load = lacking(lacking(real, './outbound/hmail', ['prototype', 'get_force_tls']), './outbound/tls', ['get_tls_options'])
    expect(startupError(load)).toMatch(/outbound\/hmail\.js prototype\.get_force_tls is undefined.*; also outbound\/tls\.js get_tls_options \(used by gateway-tls-policy \(ca_file\)\)$/)
  })

  it("probes a new Header for the structures header removal keeps in step", () => {
    class OldHeader {
      header_list: string[] = []
      headers = {}
    }
    const load: HarakaLoader = (p) => (p === HEADER_FIELDS.module ? { ...(real(p) as object), Header: OldHeader } : real(p))
    expect(startupError(load)).toMatch(/: haraka-email-message Header: a new Header lacks headers_decoded \(used by gateway-outbound-scrub/)
  })

  it('a patch site checks its own internal too (e.g. a unit test without gateway-core)', () => {
    const [first] = HARAKA_INTERNALS
    expect(() => requireInternal(lacking(real, first!.module, first!.member), first!)).toThrow(HarakaIncompatibleError)
  })
})
