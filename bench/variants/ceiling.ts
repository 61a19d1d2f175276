// The machine's ceiling: smtp-source straight into smtp-sink, no server between.
// The "server" measured for CPU and memory is the sink itself.

import { addressBlock } from '../../test/helpers/net'
import { SmtpSink } from '../sink'
import type { Variant } from './variant'

export function ceiling(): Variant {
  const block = addressBlock()
  const sink = new SmtpSink(block.ip(3), 2526)
  return {
    id: 'ceiling',
    title: 'smtp-source -> smtp-sink, no server (machine ceiling; CPU/RSS are the sink\'s)',
    endpoint: { host: sink.host, port: sink.port },
    from: 'app@example.com',
    to: 'bob@example.com',
    sink,
    start: async () => void (await sink.start()),
    stop: () => sink.stop(),
    serverPids: () => [sink.pid],
  }
}
