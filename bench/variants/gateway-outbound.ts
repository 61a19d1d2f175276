// The gateway's outbound instance as shipped: clients STARTTLS and AUTH LOGIN
// with one account (a mail-server account that may send as anyone in the
// accepted domains), and the instance relays to partner.test, whose MX (fixture
// DNS) is an smtp-sink on port 25 of the block.

import { FixtureDns } from '../../test/helpers/dns-server'
import { addUser } from '../../test/helpers/fixtures'
import { TestGateway } from '../../test/helpers/gateway'
import { addressBlock } from '../../test/helpers/net'
import { TestRedis } from '../../test/helpers/redis-server'
import { SmtpSink } from '../sink'
import { profileEnv, shippedLogIni } from './shipped'
import type { Variant, VariantOptions } from './variant'

const ACCOUNT = { user: 'relay', password: 'bench password 1' }

export function gatewayOutbound(opts: VariantOptions = {}): Variant {
  const block = addressBlock()
  const sink = new SmtpSink(block.ip(10), 25)
  const internal = new SmtpSink(block.ip(3), 2526) // accepted domains and bounces; unused by the load
  const dns = new FixtureDns(block.ip(53), 5353)
    .add('partner.test', { type: 'MX', preference: 10, exchange: 'mx.partner.test' })
    .add('mx.partner.test', { type: 'A', data: block.ip(10) })
  const redis = new TestRedis(block.ip(6))
  let gw: TestGateway | undefined
  return {
    id: 'gateway-outbound',
    title: 'gateway outbound, shipped plugins, STARTTLS + AUTH LOGIN',
    endpoint: { host: block.ip(2), port: 2587 },
    from: 'app@example.com',
    to: 'someone@partner.test',
    auth: ACCOUNT,
    sink,
    get redisUrl() {
      return redis.url
    },
    async start() {
      await Promise.all([sink.start(), internal.start(), dns.start(), redis.start()])
      gw = new TestGateway({
        block,
        redisUrl: redis.url,
        internalHosts: [internal.address],
        dnsServer: dns.address,
        instances: ['outbound'],
        files: { 'outbound/config/smtp.ini': `[main]\nnodes=${opts.nodes ?? 0}\ngraceful_shutdown=true\nforce_shutdown_timeout=1\n`, ...shippedLogIni('outbound') },
        env: profileEnv(),
      })
      addUser(gw, ACCOUNT.user, ACCOUNT.password)
      await gw.start()
    },
    async stop() {
      await gw?.stop()
      await Promise.all([sink.stop(), internal.stop(), dns.stop(), redis.stop()])
    },
    serverPids: () => (gw ? [gw.pid('outbound')] : []),
    mainThreadPid: () => (gw && !opts.nodes ? gw.pid('outbound') : undefined),
  }
}
