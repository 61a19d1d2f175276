// What every benchmarked server provides to the harness: where the load goes,
// which processes are the server (for CPU and memory), the sink that counts its
// deliveries, and its Redis if it uses one.

import type { SmtpSink } from '../sink'

export interface Variant {
  /** Short stable key, used in BENCH_VARIANTS and in the report. */
  readonly id: string
  /** One line for the report. */
  readonly title: string
  readonly endpoint: { host: string; port: number }
  readonly from: string
  readonly to: string
  /** STARTTLS + AUTH LOGIN with this account (then smtp-source cannot drive it). */
  readonly auth?: { user: string; password: string }
  readonly sink: SmtpSink
  /** The variant's own Redis, for commands per message. */
  readonly redisUrl?: string
  start(): Promise<void>
  stop(): Promise<void>
  /** Root PIDs of the server under test (their descendants are included). */
  serverPids(): number[]
  /**
   * The process whose main thread carries every SMTP session (Haraka with nodes=0):
   * its CPU per message is the cost that limits throughput, with less noise than
   * msg/s on shared cores. Undefined for servers of several processes.
   */
  mainThreadPid?(): number | undefined
}

/** Options every variant factory takes. */
export interface VariantOptions {
  /** Haraka's smtp.ini [main] nodes (0 = one process). */
  nodes?: number
}
