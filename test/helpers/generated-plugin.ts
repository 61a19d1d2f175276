// Plugins made by `gateway plugin new` during a test, taken through an operator's
// steps without touching what other tests use: the source is generated into the
// repository's plugins/ (the only place the project's tsc settings and the
// workspace apply), compiled with those settings into a temporary folder of
// which only the plugin's own files are copied into dist/ (rewriting the rest
// of dist/ would race with Haraka processes of test files running in parallel),
// and linked as node_modules/haraka-plugin-NAME as `npm install` would link the
// workspace package. remove() takes every trace away again; sweepStale() removes
// what a killed test run left behind.

import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

import { GATEWAY_ROOT } from '../../lib/config/paths'

const run = promisify(execFile)

/** Names of generated test plugins: PREFIX<pid>-<suffix>, so a stale one can be told from a live run's. */
export const PREFIX = 'extension-test-'

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/** The process environment without what vitest sets for its own workers. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VITEST') && k !== 'NODE_ENV') env[k] = v
  return { ...env, ...extra }
}

/** Runs a command to completion; a non-zero exit is a result, not an exception. */
export async function runCommand(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await run(file, args, { env: opts.env ?? cleanEnv(), cwd: opts.cwd ?? GATEWAY_ROOT, timeout: opts.timeoutMs ?? 120_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string }
    if (typeof e.code !== 'number') throw err
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }
  }
}

/** `gateway ARGS` as an operator runs it in the deployment root `root` (GATEWAY_ROOT, and the working directory). */
export function gateway(args: string[], root: string, env: Record<string, string | undefined> = {}): Promise<CommandResult> {
  return runCommand(process.execPath, [path.join(GATEWAY_ROOT, 'bin', 'gateway'), ...args], { env: cleanEnv({ ...env, GATEWAY_ROOT: root }), cwd: root })
}

export class GeneratedPlugins {
  private readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'generated-plugin-'))
  private readonly names = new Set<string>()

  /** A plugin name for this run, e.g. extension-test-1234-rcpt (recorded for remove()). */
  name(suffix: string): string {
    const name = `${PREFIX}${process.pid}-${suffix}`
    this.names.add(name)
    return name
  }

  sourceDir(name: string): string {
    return path.join(GATEWAY_ROOT, 'plugins', name)
  }

  /**
   * Type-checks the plugins (sources with the build settings, tests with the test
   * settings, as `npm test` does) and puts their compiled files into dist/.
   */
  async build(names: readonly string[]): Promise<CommandResult> {
    const tsc = path.join(GATEWAY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const out = path.join(this.tmp, 'out')
    const files = (pattern: string) => names.map((n) => path.join(this.sourceDir(n), pattern))
    const config = (file: string, extendsFrom: string, extra: object) => {
      const p = path.join(this.tmp, file)
      fs.writeFileSync(p, JSON.stringify({ extends: extendsFrom, ...extra }))
      return p
    }
    const typeRoots = [path.join(GATEWAY_ROOT, 'node_modules', '@types')]
    const types = path.join(GATEWAY_ROOT, 'types', '**', '*.d.ts')
    const buildConfig = config('tsconfig.build.json', path.join(GATEWAY_ROOT, 'tsconfig.json'), {
      compilerOptions: { rootDir: GATEWAY_ROOT, outDir: out, typeRoots },
      include: [...files('*.ts'), types],
      exclude: files('*.test.ts'),
    })
    const testConfig = config('tsconfig.test.json', path.join(GATEWAY_ROOT, 'test', 'tsconfig.json'), {
      compilerOptions: { typeRoots },
      include: [...files('*.ts'), types],
    })
    const results = await Promise.all([runCommand(process.execPath, [tsc, '-p', buildConfig]), runCommand(process.execPath, [tsc, '-p', testConfig])])
    const failed = results.find((r) => r.code !== 0)
    if (failed) return failed
    for (const name of names) fs.cpSync(path.join(out, 'plugins', name), path.join(GATEWAY_ROOT, 'dist', 'plugins', name), { recursive: true })
    return results[0]!
  }

  /** What `npm install` does for a new workspace package: node_modules/haraka-plugin-NAME -> ../plugins/NAME. */
  link(name: string): void {
    fs.symlinkSync(path.join('..', 'plugins', name), path.join(GATEWAY_ROOT, 'node_modules', `haraka-plugin-${name}`), 'dir')
  }

  /** Runs the plugins' own unit tests (plugins/NAME/plugin.test.ts) in a separate vitest. */
  unitTests(names: readonly string[]): Promise<CommandResult> {
    const config = path.join(this.tmp, 'vitest.unit.mjs')
    const include = names.map((n) => `plugins/${n}/*.test.ts`)
    // no globalSetup: a plugin's unit tests need no Redis and no build
    fs.writeFileSync(config, `export default { test: { include: ${JSON.stringify(include)} } }\n`)
    const vitest = path.join(GATEWAY_ROOT, 'node_modules', 'vitest', 'vitest.mjs')
    return runCommand(process.execPath, [vitest, 'run', '--root', GATEWAY_ROOT, '--config', config], { env: cleanEnv({ NO_COLOR: '1' }) })
  }

  /** Every trace of this run's plugins; returns what is still there (nothing, unless removal failed). */
  remove(): string[] {
    for (const name of this.names) removePlugin(name)
    fs.rmSync(this.tmp, { recursive: true, force: true })
    return [...this.names].flatMap(traces)
  }
}

function traces(name: string): string[] {
  return [
    path.join(GATEWAY_ROOT, 'plugins', name),
    path.join(GATEWAY_ROOT, 'dist', 'plugins', name),
    path.join(GATEWAY_ROOT, 'node_modules', `haraka-plugin-${name}`),
  ].filter((p) => fs.existsSync(p) || isLink(p))
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}

function removePlugin(name: string): void {
  for (const p of [
    path.join(GATEWAY_ROOT, 'node_modules', `haraka-plugin-${name}`),
    path.join(GATEWAY_ROOT, 'plugins', name),
    path.join(GATEWAY_ROOT, 'dist', 'plugins', name),
  ]) {
    fs.rmSync(p, { recursive: true, force: true })
  }
}

/** Removes generated test plugins whose test run is gone (killed before its cleanup). */
export function sweepStale(): void {
  const pattern = new RegExp(`^(?:haraka-plugin-)?${PREFIX}(\\d+)-`)
  const dirs = [path.join(GATEWAY_ROOT, 'plugins'), path.join(GATEWAY_ROOT, 'dist', 'plugins'), path.join(GATEWAY_ROOT, 'node_modules')]
  for (const dir of dirs) {
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const pid = pattern.exec(entry)?.[1]
      if (pid && !alive(Number(pid))) fs.rmSync(path.join(dir, entry), { recursive: true, force: true })
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
