// What the tests of `gateway start` share: the processes they launch are stopped
// after each test with SIGINT (as an operator's Ctrl-C: a failed assertion must
// not leave a gateway and its engines running), their deployment roots removed
// after the file, and the shipped scanner settings pointed where nothing answers
// (a system rspamd or clamd on the machine must not be found).

import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

import { afterAll, afterEach } from 'vitest'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import { freePort } from './redis-server'
import { waitForMatch } from './wait'

export interface Launched {
  /** Deployment roots to remove after the file. */
  readonly roots: string[]
  /** Launcher processes to stop after each test. */
  readonly children: ChildProcess[]
}

/** Registers the cleanup hooks in the calling file (or describe block). */
export function trackLaunches(): Launched {
  const launched: Launched = { roots: [], children: [] }
  afterEach(async () => {
    for (const child of launched.children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGINT')
      await exited
    }
  }, 60_000)
  afterAll(() => {
    for (const r of launched.roots) fs.rmSync(r, { recursive: true, force: true })
  })
  return launched
}

/** The shipped scanner config, with [main] server where nothing answers. */
export async function deadScannerFiles(): Promise<Record<string, string>> {
  const shipped = (file: string) => fs.readFileSync(path.join(GATEWAY_ROOT, 'inbound', 'config', file), 'utf8')
  const withServer = (ini: string, server: string) => ini.replace(/^server=.*\n/m, '').replace(/^\[main\]$/m, `[main]\nserver=${server}`)
  return {
    'inbound/config/gateway-spam.ini': withServer(shipped('gateway-spam.ini'), `127.0.0.1:${await freePort()}`),
    'inbound/config/gateway-antivirus.ini': withServer(shipped('gateway-antivirus.ini'), '/nonexistent/clamd.ctl'),
  }
}

export interface StartedGateway {
  readonly child: ChildProcess
  /** Everything it printed so far (stdout and stderr). */
  output(): string
  /** Its exit code. */
  readonly exit: Promise<number | null>
}

/**
 * `gateway start` on `root` (engines not installed, so none is started; REDIS_URL
 * only if given in `env`), tracked by `launched`, once its banner is complete.
 * `umask`: run from a shell with this umask, as an operator's login shell would.
 */
export async function startGateway(launched: Launched, root: string, env: Record<string, string>, opts: { umask?: string } = {}): Promise<StartedGateway> {
  const { REDIS_URL: _r, NODE_ENV: _n, VITEST: _v, ...inherited } = process.env
  const gateway = path.join(GATEWAY_ROOT, 'bin', 'gateway')
  const [cmd, args] = opts.umask === undefined ? [process.execPath, [gateway, 'start']] : ['sh', ['-c', `umask ${opts.umask}; exec "$0" "$1" start`, process.execPath, gateway]]
  const child = spawn(cmd, args, {
    env: { ...inherited, GATEWAY_ROOT: root, RSPAMD_BIN: '/nonexistent/rspamd', CLAMD_BIN: '/nonexistent/clamd', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  launched.children.push(child)
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d))
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  await waitForMatch(() => out, /Edge SMTP gateway is running[^]*Stop:/, { timeoutMs: 45_000, intervalMs: 100, where: 'launcher output' })
  return { child, output: () => out, exit }
}
