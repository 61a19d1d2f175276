// Hand-written declarations for the parts of Haraka 3.3.x this project touches.
// Haraka ships no typings; these describe what node_modules/haraka really does
// (checked against 3.3.4), not what old docs say. Keep them small and honest:
// add a member only when code uses it, and only after reading Haraka's source.

declare namespace Haraka {
  /** Return codes a hook hands to `next` (haraka-constants). */
  type ReturnCode = number

  /** Haraka's hook callback: call exactly once. `msg` may be a string, lines or a DSN. */
  type Next = (code?: ReturnCode, msg?: unknown) => void

  /** An envelope address (@haraka/email-address). In 3.x `address` is a property. */
  interface Address {
    readonly user: string | null
    readonly host: string | null
    readonly address: string
    isNull(): boolean
    format(): string
  }

  /** Free-form per-connection / per-transaction storage (haraka-notes). */
  interface Notes {
    [key: string]: unknown
    get(path: string): unknown
    set(path: string, value: unknown): void
  }

  /** The structured record of what each plugin decided (haraka-results). */
  interface ResultStore {
    add(plugin: { name: string } | string, result: Record<string, unknown>): void
    push(plugin: { name: string } | string, result: Record<string, unknown>): void
    get(plugin: { name: string } | string): Record<string, unknown> | undefined
  }

  interface HeaderStore {
    /** Lower-cased header name -> values (a null-prototype object). */
    readonly headers: Record<string, string[]>
    get(name: string): string
    get_all(name: string): string[]
    get_decoded(name: string): string
  }

  interface Transaction {
    readonly uuid: string
    mail_from: Address
    rcpt_to: Address[]
    notes: Notes
    results: ResultStore
    header: HeaderStore
    /** Bytes of message data received (after DATA). */
    data_bytes: number
    /** The message as received plus header changes (haraka-message-stream). */
    /** haraka-message-stream: one reader at a time (pipe refuses a second until the first closes); emits read errors of a spooled message. */
    message_stream: {
      pipe(dest: NodeJS.WritableStream, opts?: { dot_stuffed?: boolean; line_endings?: string }): NodeJS.WritableStream
      once(event: 'error', listener: (err: Error) => void): unknown
      removeListener(event: 'error', listener: (err: Error) => void): unknown
    }
    /** Set before DATA to have the body MIME-parsed (attachments, text parts). */
    parse_body: boolean
    add_header(name: string, value: string): void
    add_leading_header(name: string, value: string): void
    remove_header(name: string): void
  }

  interface Endpoint {
    ip: string
    port: number
    host?: string
  }

  interface Connection {
    readonly uuid: string
    remote: Endpoint & { is_private: boolean; is_local: boolean; closed?: boolean }
    local: Endpoint & { info: string }
    hello: { verb: string | null; host: string | null }
    tls: { enabled: boolean; advertised: boolean; verified: boolean }
    relaying: boolean
    notes: Notes
    results: ResultStore
    transaction: Transaction | null
    capabilities: string[]
    respond(code: number, msg: string | string[], cb?: () => void): void
    loginfo(...args: unknown[]): void
    lognotice(...args: unknown[]): void
    logwarn(...args: unknown[]): void
    logerror(...args: unknown[]): void
    logcrit(...args: unknown[]): void
    logdebug(...args: unknown[]): void
  }

  /** An MX target as `get_mx` hooks may return it (haraka-net-utils HarakaMx). */
  interface Mx {
    exchange: string
    priority?: number
    port?: number
    /** Source IP for the outgoing connection. */
    bind?: string
    /** HELO/EHLO name for the outgoing connection. */
    bind_helo?: string
  }

  /** A queued delivery (outbound/hmail.js); the `this` of get_mx and friends. */
  interface HMailItem {
    readonly todo: { domain: string; rcpt_to: Address[]; mail_from: Address; notes: Record<string, unknown> }
    loginfo(...args: unknown[]): void
    lognotice(...args: unknown[]): void
    logerror(...args: unknown[]): void
  }

  /** What a compiled plugin module sees as `this` inside register() and hooks. */
  interface Plugin {
    readonly name: string
    /** Seconds before Haraka itself gives up on a hook (`<name>.timeout`, default 30). */
    timeout: number
    config: {
      get(name: string, type?: string, cb?: () => void): unknown
    }
    register_hook(hook: string, method: string, priority?: number): void
    inherits(parent: string): void
    haraka_require(name: string): unknown
    loginfo(...args: unknown[]): void
    lognotice(...args: unknown[]): void
    logwarn(...args: unknown[]): void
    logerror(...args: unknown[]): void
    logcrit(...args: unknown[]): void
    [method: string]: unknown
  }

  /** Haraka's outbound module (outbound/index.js), as this project uses it. */
  interface Outbound {
    send_trans_email(transaction: Transaction, next: (code: ReturnCode, msg?: string) => void): void
  }
}

declare module 'haraka-constants' {
  export const cont: number
  export const stop: number
  export const deny: number
  export const denysoft: number
  export const denydisconnect: number
  export const denysoftdisconnect: number
  export const disconnect: number
  export const ok: number
  export function translate(code: number): string
  /** States of a Haraka connection (connection.state). */
  export const connection: { readonly state: { readonly CMD: number; readonly LOOP: number; readonly DATA: number; readonly DISCONNECTING: number } }
}

declare module 'haraka-dsn' {
  class DSN {
    constructor(code: number, msg: string, def: number | null, subject: number, detail: number)
    readonly code: number
    readonly reply: string
  }
  export = DSN
}

declare module 'haraka-net-utils' {
  export function get_mx(domain: string): Promise<Haraka.Mx[]>
  export function ip_in_list(list: string[], ip: string): boolean
}
