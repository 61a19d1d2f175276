// Postfix as the equivalent relay: its own config and queue folders in a temp
// dir (postfix -c DIR start/stop), listening on its own loopback address,
// relaying everything from 127.0.0.0/8 to the sink as relayhost, no local
// delivery, no DNS. Queue files are fsynced as always: the same durability
// promise as the gateway's spool.

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { addressBlock } from '../../test/helpers/net'
import { SmtpSink } from '../sink'
import type { Variant } from './variant'

export const POSTFIX_BIN = process.env.POSTFIX_BIN ?? '/usr/sbin/postfix'

/** The daemons a relay needs (master.cf), none chrooted: the queue is in a temp folder. */
function masterCf(listen: string): string {
  const services = [
    [listen, 'inet', 'n', '-', 'n', '-', '-', 'smtpd'],
    ['pickup', 'unix', 'n', '-', 'n', '60', '1', 'pickup'],
    ['cleanup', 'unix', 'n', '-', 'n', '-', '0', 'cleanup'],
    ['qmgr', 'unix', 'n', '-', 'n', '300', '1', 'qmgr'],
    ['rewrite', 'unix', '-', '-', 'n', '-', '-', 'trivial-rewrite'],
    ['bounce', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['defer', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['trace', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['verify', 'unix', '-', '-', 'n', '-', '1', 'verify'],
    ['flush', 'unix', 'n', '-', 'n', '1000?', '0', 'flush'],
    ['proxymap', 'unix', '-', '-', 'n', '-', '-', 'proxymap'],
    ['smtp', 'unix', '-', '-', 'n', '-', '-', 'smtp'],
    ['relay', 'unix', '-', '-', 'n', '-', '-', 'smtp'],
    ['showq', 'unix', 'n', '-', 'n', '-', '-', 'showq'],
    ['error', 'unix', '-', '-', 'n', '-', '-', 'error'],
    ['retry', 'unix', '-', '-', 'n', '-', '-', 'error'],
    ['discard', 'unix', '-', '-', 'n', '-', '-', 'discard'],
    ['anvil', 'unix', '-', '-', 'n', '-', '1', 'anvil'],
    ['scache', 'unix', '-', '-', 'n', '-', '1', 'scache'],
    ['postlog', 'unix-dgram', 'n', '-', 'n', '-', '1', 'postlogd'],
  ]
  return `${services.map((s) => s.join('  ')).join('\n')}\n`
}

function mainCf(dir: string, sink: SmtpSink): string {
  return `${[
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/queue`,
    `data_directory = ${dir}/data`,
    'mail_owner = postfix',
    'myhostname = postfix.bench.test',
    'mydomain = bench.test',
    'myorigin = bench.test',
    // Postfix only binds addresses of real interfaces here (127.0.0.1); the listener's own address is in master.cf
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'mydestination =',
    'local_recipient_maps =',
    'alias_maps =',
    'alias_database =',
    'local_transport = error:no local delivery',
    `relayhost = [${sink.host}]:${sink.port}`,
    'smtpd_relay_restrictions = permit_mynetworks, reject',
    'smtpd_peername_lookup = no',
    'smtp_dns_support_level = disabled',
    'smtp_host_lookup = native',
    'smtp_tls_security_level = none',
    'smtpd_tls_security_level = none',
    // 100 smtpd processes by default; with more concurrent sessions the listen queue
    // overflows and clients hang waiting for a greeting: sized for the 500-session scaling cell
    'default_process_limit = 600',
    'message_size_limit = 52428800', // the 10 MiB cell (default 10240000 is just below 10 MiB)
    'biff = no',
    `maillog_file = ${dir}/maillog`,
    `maillog_file_prefixes = ${dir}`,
  ].join('\n')}\n`
}

export function postfix(): Variant {
  const block = addressBlock()
  const sink = new SmtpSink(block.ip(3), 2526)
  const endpoint = { host: block.ip(1), port: 2525 }
  let dir: string | undefined
  const run = (...args: string[]): void => {
    try {
      execFileSync(POSTFIX_BIN, ['-c', path.join(dir!, 'etc'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
    } catch {
      // postfix reports its fatal errors to its log, not to a pipe
      throw new Error(`postfix ${args.join(' ')} failed: ${readLog(dir!)}`)
    }
  }
  return {
    id: 'postfix',
    title: `Postfix ${postfixVersion()}: relay to relayhost, fsynced queue`,
    endpoint,
    from: 'app@example.com',
    to: 'bob@example.com',
    sink,
    async start() {
      if (!fs.existsSync(POSTFIX_BIN)) throw new Error(`${POSTFIX_BIN} not found: apt-get install postfix (see .ci/system-packages)`)
      await sink.start()
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-postfix-'))
      fs.chmodSync(dir, 0o755) // the postfix user must reach its queue
      fs.mkdirSync(path.join(dir, 'etc'))
      fs.mkdirSync(path.join(dir, 'queue')) // root-owned; postfix creates its subfolders
      fs.writeFileSync(path.join(dir, 'etc', 'main.cf'), mainCf(dir, sink))
      fs.writeFileSync(path.join(dir, 'etc', 'master.cf'), masterCf(`${endpoint.host}:${endpoint.port}`))
      run('start')
      const until = Date.now() + 30_000
      while (!fs.existsSync(path.join(dir, 'queue', 'pid', 'master.pid'))) {
        if (Date.now() > until) throw new Error(`postfix did not start: ${readLog(dir)}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    async stop() {
      if (dir) {
        try {
          run('stop')
        } catch {
          // already stopped
        }
        await new Promise((r) => setTimeout(r, 500))
        fs.rmSync(dir, { recursive: true, force: true })
      }
      await sink.stop()
    },
    serverPids: () => {
      if (!dir) return []
      const text = fs.readFileSync(path.join(dir, 'queue', 'pid', 'master.pid'), 'utf8')
      return [Number(text.trim())]
    },
  }
}

function readLog(dir: string): string {
  try {
    return fs.readFileSync(path.join(dir, 'maillog'), 'utf8').slice(-3000)
  } catch {
    return '(no maillog)'
  }
}

export function postfixVersion(): string {
  try {
    return execFileSync('/usr/sbin/postconf', ['-d', '-h', 'mail_version'], { encoding: 'utf8' }).trim()
  } catch {
    return '?'
  }
}
