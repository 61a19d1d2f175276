// `gateway dashboard` as an operator runs it against a test gateway (its Redis
// and prefix, through the environment), and headless Chromium through
// playwright-core with the Debian browser (never a downloaded one).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import path from 'node:path'

import { chromium, type Browser } from 'playwright-core'

import { GATEWAY_ROOT } from '../../lib/config/paths'
import { waitForMatch } from './wait'

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium'
const GATEWAY_BIN = path.join(GATEWAY_ROOT, 'bin', 'gateway')

export interface DashboardProcess {
  /** http://host:port/ as it printed it. */
  readonly url: string
  output(): string
  stop(): Promise<number | null>
}

/** Starts `gateway dashboard` with `env` and waits for the line naming its address. */
export async function startDashboardCli(env: NodeJS.ProcessEnv): Promise<DashboardProcess> {
  const child: ChildProcess = spawn(process.execPath, [GATEWAY_BIN, 'dashboard'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const log: string[] = []
  child.stdout!.setEncoding('utf8').on('data', (d: string) => log.push(d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => log.push(d))
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const output = () => log.join('')
  const up = waitForMatch(output, /gateway dashboard: (http:\/\/\S+\/)/, { timeoutMs: 20_000, where: 'gateway dashboard output' })
  const outcome = await Promise.race([up, exit.then((code) => new Error(`gateway dashboard exited (code ${code}):\n${output()}`))])
  if (outcome instanceof Error) throw outcome
  return {
    url: outcome[1]!,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exit
    },
  }
}

/** Runs `gateway dashboard` expected to refuse to start: exit code and output. */
export function dashboardRefused(env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [GATEWAY_BIN, 'dashboard'], { env, encoding: 'utf8', timeout: 20_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Headless Chromium from the system (as root it needs the sandbox off). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, chromiumSandbox: false })
}
