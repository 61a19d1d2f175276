// Declarations for the outbound plugins (header scrubbing, TCP_NODELAY) that
// types/haraka.d.ts does not carry: checked against haraka 3.3.4 and
// haraka-email-message 1.4.4.

declare namespace Haraka {
  interface Notes {
    /** Transaction notes only (transaction.js sets []): plugins the runner skips for the rest of the transaction (plugins.js, docs/Transaction.md). */
    skip_plugins?: string[]
  }

  interface HeaderStore {
    /** Lower-cased header name -> decoded values, kept in step with `headers` by Haraka's Header. */
    headers_decoded: Record<string, string[]>
    /** RFC 2047/2231 decoding as Header.parse applies it to each value. */
    decode_header(value: string): string
  }

  /**
   * What pre_send_trans_email hooks get as "connection" (outbound/index.js
   * send_trans_email): only the transaction and log methods; no client, no notes.
   */
  interface QueueingContext {
    transaction: Transaction
    loginfo(...args: unknown[]): void
    lognotice(...args: unknown[]): void
    logerror(...args: unknown[]): void
  }

  /** Haraka's outbound socket factory (outbound/client_pool.js). hmail.js looks get_client up on every delivery attempt. */
  interface ClientPool {
    get_client(mx: Mx & { path?: string }, callback: (err: unknown, socket: OutboundSocket | null) => void): void
  }

  /**
   * tls_socket.js's pluggableStream: its setNoDelay() does nothing; `targetsocket`
   * is the TCP socket underneath (kept as the transport after STARTTLS).
   */
  interface OutboundSocket {
    name?: string
    targetsocket?: { setNoDelay?(noDelay?: boolean): unknown }
  }
}
