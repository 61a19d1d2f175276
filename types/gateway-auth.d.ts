// Declarations for sender authentication (gateway-dmarc and its tests) that
// types/haraka.d.ts does not carry: checked against haraka 3.3.4 and mailauth 4.9.5.

declare namespace Haraka {
  interface Connection {
    /**
     * Adds one result (e.g. "dmarc=pass header.from=example.net") to the
     * Authentication-Results header Haraka assembles with authserv-id
     * `local.host`, and returns that header so far (connection.js auth_results).
     */
    auth_results(message?: string): string
  }
}

declare module 'mailauth/lib/dkim/sign' {
  export interface DkimSignatureData {
    signingDomain: string
    selector: string
    privateKey: string | Buffer
    algorithm?: string
    canonicalization?: string
  }
  export function dkimSign(
    message: string | Buffer,
    options: { canonicalization?: string; algorithm?: string; signTime?: Date; headerList?: string; signatureData: DkimSignatureData[] },
  ): Promise<{ signatures: string; errors: unknown[] }>
}

declare namespace Haraka {
  interface HeaderStore {
    /**
     * The raw header fields ("Name: value\n") in message order. The message
     * stream writes the header from this very array, and fields in obsolete
     * syntax ("Name : value") appear only here, not in get()/get_all().
     */
    header_list: string[]
  }
}
