// gateway-header-firewall (inbound): headers that only the gateway may set are
// removed from Internet mail before any check runs and before the gateway adds
// its own, so an outsider cannot forge internal trust data (a fake
// "X-Gateway-SCL: 0", a fake "X-Gateway-Checks", or an internal header that the
// internal servers trust). It must be the first data_post plugin of inbound
// (declared below, checked at startup).
// (Authentication-Results claiming our authserv-id are handled with the
// authentication checks, which own that header.)

import { field } from '../../lib/config/schema'
import { definePlugin } from '../../lib/plugin/define'

/** Always stripped: the gateway's own header family. */
const OWN_PREFIX = 'x-gateway-'

/** A field's name, also in the obsolete "Name : value" form that Haraka's header map does not see. */
const FIELD_NAME = /^([^:\s]+)[ \t]*:/

const schema = {
  main: {
    /** More header names only your organisation sets internally (case-insensitive), e.g. X-MS-Exchange-Organization-AuthAs. */
    strip: field.stringList({ default: [] }),
    /** Header name prefixes to strip as well, e.g. X-Internal-. */
    strip_prefix: field.stringList({ default: [] }),
  },
}

export = definePlugin({
  name: 'gateway-header-firewall',
  instances: ['inbound'],
  hooks: ['data_post'],
  config: schema,
  order: { first: { data_post: 'forged gateway headers are removed before any check reads the message' } },
  setup({ plugin, config: { main } }) {
    const names = new Set(main.strip.map((n) => n.toLowerCase()))
    const prefixes = [OWN_PREFIX, ...main.strip_prefix.map((p) => p.toLowerCase())]
    const forbidden = (name: string) => names.has(name) || prefixes.some((p) => name.startsWith(p))

    return {
      hooks: {
        data_post(c, txn) {
          // The raw field list is what the message stream writes; fields in obsolete
          // syntax ("X-Gateway-SCL : 0") exist only there, so it is filtered directly.
          const raw = txn.header.header_list
          const found = new Set<string>()
          for (let i = raw.length - 1; i >= 0; i--) {
            const name = FIELD_NAME.exec(raw[i]!)?.[1]?.toLowerCase()
            if (name && forbidden(name)) {
              raw.splice(i, 1)
              found.add(name)
            }
          }
          for (const name of Object.keys(txn.header.headers).filter(forbidden)) found.add(name)
          const stripped = [...found]
          for (const name of stripped) txn.remove_header(name) // keeps Haraka's parsed view in step
          if (stripped.length > 0) {
            c.lognotice(plugin, `stripped ${stripped.length} forbidden header name(s) from Internet mail: ${stripped.join(', ')}`)
            txn.results.add(plugin, { msg: `stripped ${stripped.join(',')}` })
          }
          return undefined
        },
      },
    }
  },
})
