// Builds the variants the options ask for, in the report's order.

import type { VariantId } from '../options'
import { bareHaraka } from './bare-haraka'
import { ceiling } from './ceiling'
import { gatewayInbound } from './gateway-inbound'
import { gatewayOutbound } from './gateway-outbound'
import { postfix } from './postfix'
import type { Scanners } from './scanners'
import type { Variant, VariantOptions } from './variant'

export function makeVariant(id: VariantId, opts: VariantOptions & { scanners?: Scanners } = {}): Variant {
  switch (id) {
    case 'gateway-inbound':
      return gatewayInbound(opts.nodes === undefined ? {} : { nodes: opts.nodes })
    case 'gateway-inbound-scan':
      if (!opts.scanners) throw new Error('gateway-inbound-scan needs the scanners')
      return gatewayInbound({ ...opts, scanners: opts.scanners })
    case 'gateway-outbound':
      return gatewayOutbound(opts)
    case 'bare-haraka':
      return bareHaraka(opts)
    case 'bare-haraka-tls':
      return bareHaraka({ ...opts, kind: 'tls' })
    case 'bare-haraka-stock':
      return bareHaraka({ ...opts, kind: 'stock' })
    case 'postfix':
      return postfix()
    case 'ceiling':
      return ceiling()
  }
}
