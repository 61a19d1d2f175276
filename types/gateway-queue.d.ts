// Haraka members used by the delivery-queue plugins (gateway-queue, gateway-bounce,
// gateway-tls-policy, lib/haraka), checked against haraka 3.3.4 outbound/hmail.js and
// outbound/tls.js. Kept apart from haraka.d.ts, which other work owns.

declare namespace Haraka {
  /** A recipient of a queued message, with the DSN fields hmail.js fills in. */
  interface QueuedRecipient extends Address {
    dsn_action?: string
    dsn_status?: string
    dsn_code?: number
    dsn_msg?: string
    dsn_smtp_code?: string
    dsn_smtp_extc?: string
    dsn_smtp_response?: string
    dsn_remote_mta?: string
    reason?: string
  }

  /** An outbound queue item (outbound/hmail.js HMailItem) as the queue hooks see it. */
  interface QueuedMail {
    /** The queue file's current name (renamed after every failed attempt). */
    readonly filename: string
    /** The queue file's full path. */
    readonly path: string
    /** Failed attempts so far. */
    readonly num_failures: number
    todo: {
      domain: string
      rcpt_to: QueuedRecipient[]
      mail_from: Address
      notes: Record<string, unknown>
      queue_time: number
    }
    loginfo(...args: unknown[]): void
    lognotice(...args: unknown[]): void
    logwarn(...args: unknown[]): void
    logerror(...args: unknown[]): void
  }

  /** The MX a delivery attempt is made to (haraka-net-utils HarakaMx after resolution). */
  interface DeliveryMx {
    exchange: string
    from_dns?: string
  }

  /** outbound/tls.js (a singleton): options for every outgoing STARTTLS (lib/haraka/outbound-tls.ts extends it). */
  interface OutboundTls {
    get_tls_options(mx: DeliveryMx): Record<string, unknown>
    [key: symbol]: unknown
  }
}

declare module 'haraka-constants' {
  /** send_email hook: try again in `msg` seconds without counting an attempt. */
  export const delay: number
}
