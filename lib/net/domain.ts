// Domain names as operators and administrators type them (config lists, CLI
// arguments): lower-cased, without a trailing dot, LDH labels (IDNs as A-labels).

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/

/** The canonical form of `text`; throws a plain message when it is not a domain name. */
export function normalizeDomain(text: string): string {
  const d = text.trim().toLowerCase().replace(/\.$/, '')
  if (!DOMAIN.test(d)) throw new Error(`"${text}" is not a domain name`)
  return d
}
