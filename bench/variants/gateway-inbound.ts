// The gateway's inbound instance as shipped (its plugin list and config), on its
// own loopback block with a real Redis and the empty fixture DNS of the tests,
// spooling durably and delivering to an smtp-sink as the internal server.
// Without scanners the content-scanner plugins are left out (as in the tests:
// test/helpers/gateway.ts); with them, a private rspamd and clamd do the scanning.

import { TestGateway } from '../../test/helpers/gateway'
import { addressBlock } from '../../test/helpers/net'
import { TestRedis } from '../../test/helpers/redis-server'
import { SmtpSink } from '../sink'
import type { Scanners } from './scanners'
import { profileEnv, shippedLogIni } from './shipped'
import type { Variant, VariantOptions } from './variant'

export function gatewayInbound(opts: VariantOptions & { scanners?: Scanners } = {}): Variant {
  const block = addressBlock()
  const sink = new SmtpSink(block.ip(3), 2526)
  const redis = new TestRedis(block.ip(6))
  let gw: TestGateway | undefined
  const { scanners } = opts
  return {
    id: scanners ? 'gateway-inbound-scan' : 'gateway-inbound',
    title: scanners ? 'gateway inbound, shipped plugins with rspamd + clamd' : 'gateway inbound, shipped plugins, scanners off',
    endpoint: { host: block.ip(1), port: 2525 },
    from: 'sender@sender.test',
    to: 'bob@example.com',
    sink,
    get redisUrl() {
      return redis.url
    },
    async start() {
      await Promise.all([sink.start(), redis.start()])
      gw = new TestGateway({
        block,
        redisUrl: redis.url,
        internalHosts: [sink.address],
        instances: ['inbound'],
        withScanners: scanners !== undefined,
        files: {
          'inbound/config/smtp.ini': `[main]\nnodes=${opts.nodes ?? 0}\ngraceful_shutdown=true\nforce_shutdown_timeout=1\n`,
          ...shippedLogIni('inbound'),
          ...(scanners ? scanners.inboundFiles() : {}),
        },
        env: profileEnv(),
      })
      await gw.start()
    },
    async stop() {
      await gw?.stop()
      await Promise.all([sink.stop(), redis.stop()])
    },
    // with scanners, their processes are part of the server's cost
    serverPids: () => (gw ? [gw.pid('inbound'), ...(scanners?.pids() ?? [])] : []),
  }
}
