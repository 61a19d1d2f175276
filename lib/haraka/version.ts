// The version gate: the gateway runs on the Haraka version its patches and
// internal accesses were checked against (lib/haraka/UPGRADING.md), and on no
// other unless an operator went through that checklist for the installed version
// and says so: GATEWAY_HARAKA_CHECKED=<installed version>. An override names one
// version, so the next upgrade is stopped again.

import { CHECKLIST } from './internal'

/** The Haraka version every file of lib/haraka was checked against; package.json pins exactly this. */
export const CHECKED_HARAKA_VERSION = '3.3.4'

/** The environment variable an operator sets after going through the checklist for another version. */
export const OVERRIDE_ENV = 'GATEWAY_HARAKA_CHECKED'

export type VersionVerdict =
  | { readonly kind: 'checked' }
  /** Another version, which the operator checked (a warning is logged). */
  | { readonly kind: 'override'; readonly warning: string }
  | { readonly kind: 'refused'; readonly problem: string }

/** Whether the gateway may start on Haraka `installed`. */
export function versionVerdict(installed: string, env: NodeJS.ProcessEnv, checked = CHECKED_HARAKA_VERSION): VersionVerdict {
  if (installed === checked) return { kind: 'checked' }
  const override = env[OVERRIDE_ENV]?.trim()
  if (override === installed) {
    return {
      kind: 'override',
      warning: `running on Haraka ${installed}, checked by the operator (${OVERRIDE_ENV}=${installed}); the gateway's own checks are for ${checked} (${CHECKLIST})`,
    }
  }
  const set = override ? ` (${OVERRIDE_ENV}=${override} names another version)` : ''
  return {
    kind: 'refused',
    problem:
      `Haraka ${installed} is installed, but the gateway's patches of Haraka internals were checked against ${checked}${set}: ` +
      `install haraka@${checked} (npm ci), or go through ${CHECKLIST} for ${installed} and start with ${OVERRIDE_ENV}=${installed}`,
  }
}

/** The version field of Haraka's package.json as loaded, or a description of what is wrong with it. */
export function installedVersion(pkg: unknown): string | undefined {
  const version = (pkg as { version?: unknown } | null | undefined)?.version
  return typeof version === 'string' && version !== '' ? version : undefined
}
