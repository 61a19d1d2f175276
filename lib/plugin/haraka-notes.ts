// Notes that Haraka or a stock plugin writes and the gateway reads (or the other
// way round), typed once here instead of cast where they are used. Checked
// against haraka 3.3.4 and the pinned haraka-plugin-dkim.

import { sessionState, transactionState } from './state'

/** Plugins the runner skips for the rest of the transaction (Haraka's transaction.js sets []). */
export const SKIP_PLUGINS = transactionState<string[]>('skip_plugins')

/** The authenticated user, as Haraka's auth plugins set it (Received header, other plugins). */
export const AUTH_USER = sessionState<string>('auth_user')

/** The message's Authentication-Results entries, collected by connection.auth_results(). */
export const AUTHENTICATION_RESULTS = transactionState<string[]>('authentication_results')

/** One verified DKIM signature as haraka-plugin-dkim notes it. */
export interface DkimNote {
  result?: unknown
  domain?: unknown
  selector?: unknown
}

/** haraka-plugin-dkim's verification results (data_post). */
export const DKIM_RESULTS = transactionState<DkimNote[]>('dkim_results')
