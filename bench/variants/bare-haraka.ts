// Haraka 3.3.4 itself with nothing of the gateway: the reference the gateway's
// cost is measured against. One small plugin accepts the test domain, queues
// durably through Haraka's own outbound queue and routes every delivery to the
// sink. The TLS variant adds Haraka's tls and auth/flat_file plugins (AUTH LOGIN
// after STARTTLS), for comparison with the gateway's outbound instance. The stock
// variant adds Haraka's own plugins for the checks they have in common with the
// gateway's inbound pipeline (stock-pipeline.ts).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { ensureTlsMaterial } from '../../lib/tls/material'
import { HARAKA_BIN } from '../../test/helpers/gateway'
import { FixtureDns } from '../../test/helpers/dns-server'
import { addressBlock } from '../../test/helpers/net'
import { bareNoopPlugins } from '../options'
import { SmtpSink } from '../sink'
import type { Variant, VariantOptions } from './variant'
import { profileEnv } from './shipped'
import { dnsPreload, STOCK_PLUGINS, stockConfigFiles } from './stock-pipeline'

/** The hooks of each BENCH_BARE_NOOP plugin: each runs once per message of one session. */
const NOOP_HOOKS = ['connect_init', 'connect', 'mail', 'rcpt', 'data_post', 'queue_ok', 'disconnect', 'delivered']

const ACCOUNT = { user: 'relay', password: 'bench password 1' }

/** The whole plugin: RCPT ok for example.com, queue (inbound and relayed) to the outbound queue, MX = the sink. */
function benchPlugin(sink: SmtpSink): string {
  return `// bare benchmark plugin (written by bench/variants/bare-haraka.ts)
const outbound = require('./outbound')
exports.hook_rcpt = function (next, connection, params) {
  if (connection.relaying || params[0].host === 'example.com') return next(OK)
  next()
}
const queue = function (next, connection) { outbound.send_trans_email(connection.transaction, next) }
exports.hook_queue = queue
exports.hook_queue_outbound = queue
exports.hook_get_mx = function (next) { next(OK, { exchange: '${sink.host}', port: ${sink.port}, priority: 10 }) }
`
}

/** The three bare Haraka variants: what differs between them. */
export type BareKind = 'plain' | 'tls' | 'stock'
const KINDS: Record<BareKind, { id: string; profName: string; plugins: readonly string[] }> = {
  plain: { id: 'bare-haraka', profName: 'bare', plugins: [] },
  tls: { id: 'bare-haraka-tls', profName: 'bare-tls', plugins: ['tls', 'auth/flat_file'] },
  stock: { id: 'bare-haraka-stock', profName: 'bare-stock', plugins: STOCK_PLUGINS },
}

export function bareHaraka(opts: VariantOptions & { kind?: BareKind } = {}): Variant {
  const kind = opts.kind ?? 'plain'
  const tlsAuth = kind === 'tls'
  const block = addressBlock()
  const sink = new SmtpSink(block.ip(3), 2526)
  const endpoint = { host: block.ip(1), port: 2525 }
  let dir: string | undefined
  let child: ChildProcess | undefined
  let log = ''
  // BENCH_BARE_NOOP=N: N plugins whose 8 hooks only call next(), before the accepting one:
  // what Haraka's own dispatch of a hook costs (the gateway's inbound registers ~50)
  const noop = kind === 'plain' ? bareNoopPlugins() : 0
  // the stock plugins resolve names: an empty fixture DNS as the gateway's variants have
  const dns = kind === 'stock' ? new FixtureDns(block.ip(254), 53) : undefined
  const titles: Record<BareKind, string> = {
    plain: `bare Haraka 3.3.4: accept + outbound queue only${noop > 0 ? ` + ${noop} no-op plugins (${NOOP_HOOKS.length} hooks each)` : ''}`,
    tls: 'bare Haraka 3.3.4: tls + auth/flat_file (AUTH LOGIN after STARTTLS), outbound queue',
    stock: `bare Haraka 3.3.4 with the stock plugins ${STOCK_PLUGINS.join(', ')} (bench/variants/stock-pipeline.ts), outbound queue`,
  }
  return {
    id: KINDS[kind].id,
    title: titles[kind],
    endpoint,
    from: 'app@example.com',
    to: tlsAuth ? 'someone@partner.test' : 'bob@example.com',
    ...(tlsAuth ? { auth: ACCOUNT } : {}),
    sink,
    async start() {
      await sink.start()
      await dns?.start()
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-haraka-'))
      // a fresh instance as a Haraka user starts one (haraka -i), then our few files over it
      execFileSync(process.execPath, [HARAKA_BIN, '-i', dir], { stdio: 'ignore', timeout: 30_000 })
      const config = path.join(dir, 'config')
      fs.writeFileSync(path.join(dir, 'plugins', 'bench_accept.js'), benchPlugin(sink))
      const noops: string[] = []
      for (let i = 0; i < noop; i++) {
        noops.push(`bench_noop_${i}`)
        fs.writeFileSync(path.join(dir, 'plugins', `bench_noop_${i}.js`), NOOP_HOOKS.map((h) => `exports.hook_${h} = function (next) { next() }\n`).join(''))
      }
      const plugins = [...noops, ...KINDS[kind].plugins, 'bench_accept']
      const files: Record<string, string> = {
        plugins: `${plugins.join('\n')}\n`,
        'smtp.ini': `[main]\nlisten=${endpoint.host}:${endpoint.port}\nnodes=${opts.nodes ?? 0}\ngraceful_shutdown=true\nforce_shutdown_timeout=1\n`,
        // same delivery settings as the gateway's test instances
        'outbound.ini': '[main]\nreceived_header=disabled\nlocal_mx_ok=true\n',
        'log.ini': '[main]\nlevel=notice\n',
        host_list: 'example.com\n',
        me: 'bare.bench.test\n',
      }
      if (kind === 'stock') Object.assign(files, stockConfigFiles())
      if (tlsAuth) files['auth_flat_file.ini'] = `[core]\nmethods=LOGIN\n[users]\n${ACCOUNT.user}=${ACCOUNT.password}\n`
      for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(config, name), content)
      if (tlsAuth) ensureTlsMaterial(config, 'bare.bench.test')
      const { NODE_ENV: _n, VITEST: _v, ...env } = process.env
      const childEnv: Record<string, string | undefined> = { ...env, ...profileEnv(), BENCH_CPU_PROF_NAME: KINDS[kind].profName }
      if (dns) {
        const preload = path.join(dir, 'dns-preload.cjs')
        fs.writeFileSync(preload, dnsPreload(dns.address))
        childEnv.NODE_OPTIONS = `${childEnv.NODE_OPTIONS ?? ''} --require ${preload}`.trim()
      }
      const c = spawn(process.execPath, [HARAKA_BIN, '-c', dir], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
      child = c
      c.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d))
      c.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d))
      const until = Date.now() + 30_000
      // every worker logs its listener (nodes=N: N of them)
      while ((log.match(/Listening on/g)?.length ?? 0) < Math.max(1, opts.nodes ?? 0)) {
        if (c.exitCode !== null) throw new Error(`bare Haraka exited during startup:\n${log.slice(-3000)}`)
        if (Date.now() > until) throw new Error(`bare Haraka not listening after 30 s:\n${log.slice(-3000)}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    async stop() {
      const c = child
      child = undefined
      if (c && c.exitCode === null && c.signalCode === null) {
        const exited = new Promise((r) => c.once('exit', r))
        c.kill('SIGINT')
        const timer = setTimeout(() => c.kill('SIGKILL'), 10_000)
        await exited
        clearTimeout(timer)
      }
      await sink.stop()
      await dns?.stop()
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    },
    serverPids: () => (child?.pid ? [child.pid] : []),
    mainThreadPid: () => (opts.nodes ? undefined : child?.pid),
  }
}
