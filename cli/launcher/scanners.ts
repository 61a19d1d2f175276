// Finds the scan engines for `gateway start`, as it finds Redis: for rspamd and
// clamd in turn, the configured server if it answers; else, when the engine is
// installed, a private one under var/ whose address reaches the inbound instance
// through GATEWAY_RSPAMD_SERVER / GATEWAY_CLAMD_SERVER; else scanning is OFF and
// on_error=accept (GATEWAY_SPAM_ON_ERROR / GATEWAY_VIRUS_ON_ERROR) lets mail flow,
// marked unscanned. Each outcome becomes one banner line, so nobody believes mail
// is scanned when it is not.

import { ping as pingClamd } from '../../lib/scanners/clamd-client'
import type { ClamdAddress } from '../../lib/scanners/clamd-protocol'
import type { HostPort } from '../../lib/net/address'
import { CLAMD_PACKAGE, clamdBinary, hasSignatures, PrivateClamd, SYSTEM_SIGNATURES } from './clamd'
import { pingRspamd, PrivateRspamd, RSPAMD_PACKAGE, rspamdBinary } from './rspamd'
import {
  CLAMD_SERVER_ENV,
  readSpamEngineSettings,
  readVirusEngineSettings,
  RSPAMD_SERVER_ENV,
  SPAM_ENGINE_ENV,
  SPAM_ON_ERROR_ENV,
  VIRUS_ENGINE_ENV,
  VIRUS_ON_ERROR_ENV,
  type EngineSettings,
} from '../../lib/scanners/engine-settings'

/** Everything `gateway start` needs to know about one engine, read while validating the configuration. */
export interface EnginePlan {
  readonly engine: 'rspamd' | 'clamd'
  /** "spam scanning" / "virus scanning", the start of its banner line. */
  readonly scanning: string
  readonly plugin: string
  /** Listed in inbound/config/plugins: otherwise nothing is started. */
  readonly enabled: boolean
  readonly settings: EngineSettings<unknown>
  readonly serverEnv: string
  readonly onErrorEnv: string
  /** Tells the plugin the engine is OFF (see settings.ts), so it says so once instead of an error per message. */
  readonly engineEnv: string
  /** The header that marks a message delivered without a verdict. */
  readonly unscannedHeader: string
  readonly install: string
  /** Why a private start can take a while, said once while waiting. */
  readonly slowStart: string
  /** The variable that names the engine binary instead of PATH (RSPAMD_BIN, CLAMD_BIN). */
  readonly binaryEnv: string
  answers(): Promise<boolean>
  binary(): string | undefined
  startPrivate(bin: string, dir: string, wait: StartWait): Promise<PrivateEngine>
}

interface StartWait {
  signal?: AbortSignal
  onWaiting: (seconds: number) => void
}

interface PrivateEngine {
  address: string
  /** After "private rspamd, data in DIR": anything the operator should know. */
  note: string
  stop(): Promise<void>
}

export interface EngineHandle {
  /** What is used: system (the configured server answers), private, off (no engine), unreachable (set by the environment, not answering), disabled (plugin not loaded). */
  readonly mode: 'system' | 'private' | 'off' | 'unreachable' | 'disabled'
  /** The banner line after the engine's name. */
  readonly line: string
  /** Environment overrides for the inbound instance. */
  readonly env: Readonly<Record<string, string>>
  stop(): Promise<void>
}

export interface EnsureOptions {
  /** Folder for a private engine (var/rspamd, var/clamd). */
  privateDir: string
  /** Aborted by Ctrl-C: a private engine still starting is stopped, and ensureEngine rejects. */
  signal?: AbortSignal
  /** Progress lines while a private engine starts. */
  log: (line: string) => void
}

export function planSpamEngine(inboundDir: string, inboundPlugins: readonly string[]): EnginePlan {
  const settings = readSpamEngineSettings(inboundDir)
  return {
    engine: 'rspamd',
    scanning: 'spam scanning',
    plugin: 'gateway-spam',
    enabled: inboundPlugins.includes('gateway-spam'),
    settings,
    serverEnv: RSPAMD_SERVER_ENV,
    onErrorEnv: SPAM_ON_ERROR_ENV,
    engineEnv: SPAM_ENGINE_ENV,
    unscannedHeader: 'X-Gateway-Spam',
    install: `apt-get install ${RSPAMD_PACKAGE}`,
    binaryEnv: 'RSPAMD_BIN',
    slowStart: 'its first start compiles its rules (up to a minute; later starts take seconds, with the compiled rules kept in var/rspamd)',
    answers: () => pingRspamd(settings.server as HostPort, 2000),
    binary: rspamdBinary,
    async startPrivate(bin, dir, wait) {
      const rspamd = new PrivateRspamd({ dir, bin })
      await rspamd.start({ timeoutMs: 180_000, signal: wait.signal, onWaiting: wait.onWaiting })
      return { address: rspamd.address, note: 'local rules only, no DNS or network checks', stop: () => rspamd.stop() }
    },
  }
}

export function planVirusEngine(inboundDir: string, inboundPlugins: readonly string[]): EnginePlan {
  const settings = readVirusEngineSettings(inboundDir)
  return {
    engine: 'clamd',
    scanning: 'virus scanning',
    plugin: 'gateway-antivirus',
    enabled: inboundPlugins.includes('gateway-antivirus'),
    settings,
    serverEnv: CLAMD_SERVER_ENV,
    onErrorEnv: VIRUS_ON_ERROR_ENV,
    engineEnv: VIRUS_ENGINE_ENV,
    unscannedHeader: 'X-Gateway-Virus',
    install: `apt-get install ${CLAMD_PACKAGE}`,
    binaryEnv: 'CLAMD_BIN',
    slowStart: 'loading the signatures can take a minute',
    answers: () =>
      pingClamd({ address: settings.server as ClamdAddress, connectTimeoutMs: 1000, timeoutMs: 2000 }).then(
        () => true,
        () => false,
      ),
    binary: clamdBinary,
    async startPrivate(bin, dir, wait) {
      const system = hasSignatures(SYSTEM_SIGNATURES)
      const clamd = new PrivateClamd({ dir, bin, ...(system ? { signatures: SYSTEM_SIGNATURES } : {}) })
      await clamd.start({ signal: wait.signal, onWaiting: wait.onWaiting })
      const note = system ? `signatures from ${SYSTEM_SIGNATURES}` : 'demo signatures only: run freshclam; until then only the EICAR test file is detected'
      return { address: clamd.address, note, stop: () => clamd.stop() }
    },
  }
}

const nothingToStop = async (): Promise<void> => {}

export async function ensureEngine(plan: EnginePlan, opts: EnsureOptions): Promise<EngineHandle> {
  const { engine, scanning, settings } = plan
  if (!plan.enabled) {
    return { mode: 'disabled', line: `${scanning}: not enabled (${plan.plugin} is not in inbound/config/plugins)`, env: {}, stop: nothingToStop }
  }
  if (await plan.answers()) {
    return { mode: 'system', line: `${scanning}: ${settings.serverText} (system ${engine})`, env: {}, stop: nothingToStop }
  }
  if (settings.serverFromEnv) {
    // The operator named this server explicitly (like REDIS_URL): never silently replaced.
    const line = `${scanning}: ${settings.serverText} (${plan.serverEnv}) is NOT answering; until it does, ${whenUnscanned(plan)}`
    return { mode: 'unreachable', line, env: {}, stop: nothingToStop }
  }

  const bin = plan.binary()
  const named = process.env[plan.binaryEnv]
  let why = `${engine} not installed: ${plan.install}${named ? `; ${plan.binaryEnv}=${named} is not a program` : ''}`
  if (bin) {
    opts.log(`no ${engine} answers at ${settings.serverText}: starting a private one in ${opts.privateDir}`)
    try {
      const started = await plan.startPrivate(bin, opts.privateDir, {
        signal: opts.signal,
        onWaiting: (s) => opts.log(`still waiting for the private ${engine} (${s} s)${s === 5 ? `; ${plan.slowStart}` : ''}`),
      })
      return {
        mode: 'private',
        line: `${scanning}: ${started.address} (private ${engine}, data in ${opts.privateDir}; ${started.note})`,
        env: { [plan.serverEnv]: started.address },
        stop: started.stop,
      }
    } catch (err) {
      if (opts.signal?.aborted) throw err
      opts.log(`the private ${engine} did not start: ${(err as Error).message}`)
      why = `the private ${engine} did not start: see above`
    }
  }
  // No engine: mail still flows, marked unscanned, unless the operator's environment insists on tempfail.
  const env: Record<string, string> = { [plan.engineEnv]: 'off', ...(settings.onErrorExplicit ? {} : { [plan.onErrorEnv]: 'accept' }) }
  const onError = settings.onErrorExplicit ? settings.onError : 'accept'
  return { mode: 'off', line: `${scanning}: OFF (${why}); ${whenUnscanned(plan, onError)}`, env, stop: nothingToStop }
}

function whenUnscanned(plan: EnginePlan, onError = plan.settings.onError): string {
  return onError === 'accept'
    ? `mail is delivered marked "${plan.unscannedHeader}: unscanned"`
    : `mail is refused with 451 (on_error=tempfail: senders retry later)`
}
