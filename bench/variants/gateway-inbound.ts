// The gateway's inbound instance as shipped (its plugin list and config), on its
// own loopback block with a real Redis and the empty fixture DNS of the tests,
// spooling durably and delivering to an smtp-sink as the internal server.
// Without scanners the content-scanner plugins are left out (as in the tests:
// test/helpers/gateway.ts); with them, a private rspamd and clamd do the scanning.

import { shippedInboundPlugins, TestGateway } from '../../test/helpers/gateway'
import { addressBlock } from '../../test/helpers/net'
import { TestRedis } from '../../test/helpers/redis-server'
import { SmtpSink } from '../sink'
import { inboundWithout } from '../options'
import type { Scanners } from './scanners'
import { profileEnv, shippedLogIni } from './shipped'
import type { Variant, VariantOptions } from './variant'

export function gatewayInbound(opts: VariantOptions & { scanners?: Scanners; without?: readonly string[] } = {}): Variant {
  const block = addressBlock()
  const sink = new SmtpSink(block.ip(3), 2526)
  const redis = new TestRedis(block.ip(6))
  let gw: TestGateway | undefined
  const { scanners } = opts
  return {
    id: scanners ? 'gateway-inbound-scan' : opts.without ? `gateway-inbound-without-${opts.without.join('+')}` : 'gateway-inbound',
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
          ...withoutPlugins(scanners !== undefined, opts.without),
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
    mainThreadPid: () => (gw && !opts.nodes ? gw.pid('inbound') : undefined),
  }
}

/** inbound/config/plugins without `without` (default: BENCH_INBOUND_WITHOUT's plugins); nothing to override when empty. */
function withoutPlugins(withScanners: boolean, without: readonly string[] | undefined): Record<string, string> {
  const lines = shippedInboundPlugins({ withScanners }).split('\n')
  const shipped = lines.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  const drop = inboundWithout(without ? without.join(',') : process.env.BENCH_INBOUND_WITHOUT, shipped)
  if (drop.length === 0) return {}
  return { 'inbound/config/plugins': lines.filter((l) => !drop.includes(l.trim())).join('\n') }
}
