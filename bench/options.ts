// The harness's settings, from environment variables (vitest owns argv):
//   BENCH_ROUNDS=3 BENCH_MESSAGES=3000 BENCH_SESSIONS=20 BENCH_BYTES=4096
//   BENCH_LATENCY_MESSAGES=200 (serial messages for client-side latency)
//   BENCH_WARMUP=300 (messages per variant before round 1, not measured)
//   BENCH_VARIANTS=1,2,3,4,5,6 or ids (gateway-inbound, gateway-inbound-scan, gateway-outbound,
//     bare-haraka, bare-haraka-tls, bare-haraka-stock, postfix, ceiling)
//   BENCH_PER_SESSION_ROWS=1 (also 10 messages per session for inbound/outbound and their bare twins; 0 = off)
//   BENCH_RECIPIENT_ROWS=1 (also 10 recipients per message for the same variants; 0 = off)
//   BENCH_SKIP_MISSING_SCANNERS=1 (drop variant 2 when rspamd/clamd are not installed instead of failing)
//   BENCH_SCALING=1 (the scaling section) BENCH_LEAK_MESSAGES=100000
//   BENCH_OUT=BENCHMARKS.md (relative to the repository root; "-" = do not write)
//   BENCH_CPU_PROF=DIR (a CPU profile of each gateway instance: bench/variants/shipped.ts)
//   BENCH_ABLATION=1 (what each protection of the inbound pipeline costs: bench/ablation.ts; needs gateway-inbound)
//   BENCH_INBOUND_WITHOUT=spf,dkim,gateway-dmarc (the gateway-inbound variants run without these
//     plugins: what one protection costs is the difference to a run with it; read in gateway-inbound.ts)
//   BENCH_BARE_NOOP=6 (bare Haraka also runs 6 plugins whose hooks only call next(): what Haraka's
//     own dispatch of a hook costs; read in bare-haraka.ts)

import os from 'node:os'

export const VARIANT_IDS = ['gateway-inbound', 'gateway-inbound-scan', 'gateway-outbound', 'bare-haraka', 'bare-haraka-tls', 'bare-haraka-stock', 'postfix', 'ceiling'] as const
export type VariantId = (typeof VARIANT_IDS)[number]

/** The brief's numbering: 4 is both bare Haraka variants. */
const BY_NUMBER: Record<string, VariantId[]> = {
  1: ['gateway-inbound'],
  2: ['gateway-inbound-scan'],
  3: ['gateway-outbound'],
  4: ['bare-haraka', 'bare-haraka-tls'],
  5: ['postfix'],
  6: ['ceiling'],
}

export interface BenchOptions {
  rounds: number
  messages: number
  sessions: number
  bytes: number
  latencyMessages: number
  warmup: number
  variants: VariantId[]
  perSessionRows: boolean
  recipientRows: boolean
  skipMissingScanners: boolean
  scaling: boolean
  /** The "what each protection costs" section (bench/ablation.ts). */
  ablation: boolean
  leakMessages: number
  /** Output file (absolute), or undefined to write nothing. */
  out: string | undefined
}

function int(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw.replace(/_/g, ''))
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}=${raw}: expected a whole number >= 0`)
  return n
}

/** BENCH_BARE_NOOP: no-op plugins bare Haraka runs before its accepting one (0 = none). */
export function bareNoopPlugins(): number {
  return int('BENCH_BARE_NOOP', 0)
}

export function parseVariants(raw: string | undefined): VariantId[] {
  if (!raw) return [...VARIANT_IDS]
  const out: VariantId[] = []
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const ids = Object.hasOwn(BY_NUMBER, item) ? BY_NUMBER[item]! : (VARIANT_IDS as readonly string[]).includes(item) ? [item as VariantId] : undefined
    if (!ids) throw new Error(`BENCH_VARIANTS: unknown variant "${item}" (use 1-6 or ${VARIANT_IDS.join(', ')})`)
    for (const id of ids) if (!out.includes(id)) out.push(id)
  }
  return VARIANT_IDS.filter((id) => out.includes(id))
}

/** BENCH_INBOUND_WITHOUT: plugins of inbound/config/plugins to leave out (each must be in `shipped`). */
export function inboundWithout(raw: string | undefined, shipped: readonly string[]): string[] {
  const names = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  for (const n of names) if (!shipped.includes(n)) throw new Error(`BENCH_INBOUND_WITHOUT: "${n}" is not in inbound/config/plugins`)
  return names
}

export function benchOptions(repoRoot: string): BenchOptions {
  const out = process.env.BENCH_OUT ?? 'BENCHMARKS.md'
  return {
    rounds: Math.max(1, int('BENCH_ROUNDS', 3)),
    messages: Math.max(1, int('BENCH_MESSAGES', 3000)),
    sessions: Math.max(1, int('BENCH_SESSIONS', 20)),
    bytes: Math.max(256, int('BENCH_BYTES', 4096)),
    latencyMessages: int('BENCH_LATENCY_MESSAGES', 200),
    warmup: int('BENCH_WARMUP', 300),
    variants: parseVariants(process.env.BENCH_VARIANTS),
    perSessionRows: int('BENCH_PER_SESSION_ROWS', 1) !== 0,
    recipientRows: int('BENCH_RECIPIENT_ROWS', 1) !== 0,
    skipMissingScanners: int('BENCH_SKIP_MISSING_SCANNERS', 0) !== 0,
    scaling: int('BENCH_SCALING', 0) !== 0,
    ablation: int('BENCH_ABLATION', 0) !== 0,
    leakMessages: int('BENCH_LEAK_MESSAGES', 100_000),
    out: out === '-' ? undefined : out.startsWith('/') ? out : `${repoRoot}/${out}`,
  }
}

export const CPUS = os.cpus().length
