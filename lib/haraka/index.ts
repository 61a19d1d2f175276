// Haraka compatibility in one place. Every use the gateway makes of a Haraka
// internal (anything beyond hooks, config, results, notes and the documented
// connection/transaction fields) is described in this folder, one file per
// Haraka file it touches, each saying what it replaces, why no hook or config
// can do it (checked against haraka 3.3.4) and what it relies on:
//   connection.ts    per-connection cmd_mail, max_data_exceeded_respond, process_line, logdebug,
//                    connect_respond, received_line
//   respond.ts       per-connection respond (enhanced codes on Haraka's own refusals)
//   hmail.ts         HMailItem populate_bounce_message_with_headers, get_force_tls
//   outbound-tls.ts  outbound/tls get_tls_options
//   client-pool.ts   outbound/client_pool get_client
//   server.ts        Server.cfg.main.listen
//   outbound.ts      outbound module, queue_dir, createTransaction (loaded, not patched)
//   queue-stats.ts   outbound/queue get_stats (read, not patched)
//   dns.ts           haraka-net-utils' resolver (loaded, not patched)
//   fields.ts        methods of objects read or edited in place (not patched)
//   message-stream.ts per-transaction haraka-message-stream pipe (8-bit header bytes as received)
//   message-spool.ts connection.js cfg.main.spool_dir (the message spool folder, set during register)
//   log-levels.ts    Connection and HMailItem lognotice (routine lines at INFO, wrapped once per process)
//   transaction-end.ts per-connection reset_transaction (one summary line per transaction)
// checkHaraka() is the gate gateway-core runs first: the installed version must
// be the checked one (version.ts), and every internal must have the expected
// shape. Upgrading Haraka: UPGRADING.md beside this file.

import { CLIENT_POOL_INTERNALS } from './client-pool'
import { CONNECTION_INTERNALS } from './connection'
import { DNS_RESOLVER } from './dns'
import { FIELD_INTERNALS } from './fields'
import { HMAIL_INTERNALS } from './hmail'
import { HOOK_REGISTRY_INTERNALS } from './hook-registry'
import { LOG_LEVEL_INTERNALS } from './log-levels'
import { HarakaIncompatibleError, incompatible, internalName, internalProblem, loaderOf, type HarakaInternal, type HarakaSource } from './internal'
import { MESSAGE_SPOOL_INTERNALS } from './message-spool'
import { MESSAGE_STREAM_PIPE } from './message-stream'
import { OUTBOUND_INTERNALS } from './outbound'
import { OUTBOUND_TLS_INTERNALS } from './outbound-tls'
import { QUEUE_STATS_INTERNALS } from './queue-stats'
import { RESPOND } from './respond'
import { SERVER_INTERNALS } from './server'
import { SESSION_WATCH_INTERNALS } from './session-watch'
import { TRANSACTION_END_INTERNALS } from './transaction-end'
import { versionVerdict } from './version'

export { onDeliverySocket } from './client-pool'
export { lineText, overrideCommandLine, overrideDebugLog, overrideGreeting, overrideMailCommand, overrideMaxDataReply, overrideReceivedLine } from './connection'
export { harakaDnsResolver } from './dns'
export { requireTlsWhen, rewriteBounceMessages, type BounceRewrite } from './hmail'
export { CHECKLIST, HarakaIncompatibleError, internalName, type HarakaInternal, type HarakaLoader, type HarakaSource } from './internal'
export { demoteRoutineLogLines } from './log-levels'
export { harakaHookRegistry, type HookEntry, type HookRegistry } from './hook-registry'
export { keepHeaderBytes } from './message-stream'
export { outboundModule, queueDir, transactionModule, type BuiltTransaction, type TransactionModule } from './outbound'
export { trustForOutboundTls } from './outbound-tls'
export { parseQueueStats, queueDepth, queueStatsReader, type QueueStats, type QueueStatsReader } from './queue-stats'
export { overrideReplies } from './respond'
export { setListen } from './server'
export { onTransactionEnd } from './transaction-end'
export { CHECKED_HARAKA_VERSION, OVERRIDE_ENV } from './version'

/** The version field of Haraka's package.json (the version gate reads it from the running Haraka). */
export const HARAKA_VERSION: HarakaInternal = { module: './package.json', member: ['version'], kind: 'string', usedBy: 'the version gate' }

/** Every internal the gateway uses, in the order of UPGRADING.md. */
export const HARAKA_INTERNALS: readonly HarakaInternal[] = [
  ...CONNECTION_INTERNALS,
  RESPOND,
  ...HMAIL_INTERNALS,
  ...OUTBOUND_TLS_INTERNALS,
  ...CLIENT_POOL_INTERNALS,
  ...SERVER_INTERNALS,
  ...SESSION_WATCH_INTERNALS,
  ...OUTBOUND_INTERNALS,
  ...QUEUE_STATS_INTERNALS,
  DNS_RESOLVER,
  ...FIELD_INTERNALS,
  MESSAGE_STREAM_PIPE,
  ...MESSAGE_SPOOL_INTERNALS,
  ...LOG_LEVEL_INTERNALS,
  ...TRANSACTION_END_INTERNALS,
  ...HOOK_REGISTRY_INTERNALS,
]

export interface HarakaCheck {
  /** The installed Haraka version. */
  readonly version: string
  /** Set when it runs on another version by the operator's override: log it. */
  readonly warning?: string
}

/**
 * The startup gate: throws HarakaIncompatibleError (one line) when the installed
 * Haraka is not the checked version (and no override names it), or when any
 * internal is not there in the expected shape. Checks all of them, whichever
 * plugins are loaded: one answer for one installation.
 */
export function checkHaraka(source: HarakaSource, env: NodeJS.ProcessEnv = process.env): HarakaCheck {
  const load = loaderOf(source)
  const unreadable = internalProblem(load, HARAKA_VERSION)
  if (unreadable) throw new HarakaIncompatibleError(incompatible(unreadable, HARAKA_VERSION))
  const version = (load(HARAKA_VERSION.module) as { version: string }).version
  const verdict = versionVerdict(version, env)
  if (verdict.kind === 'refused') throw new HarakaIncompatibleError(verdict.problem)
  const problems = HARAKA_INTERNALS.flatMap((i) => {
    const problem = internalProblem(load, i)
    return problem ? [{ i, problem }] : []
  })
  if (problems.length > 0) {
    const [first, ...rest] = problems
    const more = rest.length > 0 ? `; also ${rest.map((p) => `${internalName(p.i)} (used by ${p.i.usedBy})`).join(', ')}` : ''
    throw new HarakaIncompatibleError(`${incompatible(first!.problem, first!.i, version)}${more}`)
  }
  return verdict.kind === 'override' ? { version, warning: verdict.warning } : { version }
}
