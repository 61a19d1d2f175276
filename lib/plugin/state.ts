// Typed per-session and per-message state. A plugin declares a key once, with the
// type of what it holds, and reads and writes through it:
//
//   const FAILURES = sessionState<number>('gateway_auth_failures')
//   FAILURES.set(c, (FAILURES.get(c) ?? 0) + 1)
//
// Values live in Haraka's notes under the key's name (connection.notes for the
// session, transaction.notes for one message), so they end with the session or
// message exactly as Haraka's own state does, and other plugins can find them.
// Gateway keys start with "gateway_"; keys of stock plugins and Haraka (read
// here, written there) are declared in lib/plugin/haraka-notes.ts.

export interface SessionState<T> {
  readonly name: string
  get(c: Haraka.Connection): T | undefined
  set(c: Haraka.Connection, value: T): void
  delete(c: Haraka.Connection): void
}

export interface TransactionState<T> {
  readonly name: string
  get(txn: Haraka.Transaction): T | undefined
  set(txn: Haraka.Transaction, value: T): void
  delete(txn: Haraka.Transaction): void
}

type Holder = { notes: Haraka.Notes }

function key<T>(name: string) {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`state key "${name}": lower case letters, digits and _ only`)
  return {
    name,
    get: (h: Holder) => h.notes[name] as T | undefined,
    set: (h: Holder, value: T) => {
      h.notes[name] = value
    },
    delete: (h: Holder) => {
      delete h.notes[name]
    },
  }
}

/** State of one SMTP session (connection.notes): lasts until the client disconnects. */
export function sessionState<T>(name: string): SessionState<T> {
  return Object.freeze(key<T>(name))
}

/** State of one message (transaction.notes): gone after RSET, a new MAIL FROM or the end of the message. */
export function transactionState<T>(name: string): TransactionState<T> {
  return Object.freeze(key<T>(name))
}
