// Declarations for gateway-submission-auth that types/haraka.d.ts does not carry,
// checked against haraka 3.3.4 (connection.js received_header, setTLS).

declare namespace Haraka {
  interface Connection {
    /** Appended to the Received header; its presence also makes the protocol "ESMTPSA". */
    authheader?: string
  }

  /**
   * connection.tls after STARTTLS (connection.setTLS): `peerCertificate` is Node's
   * getPeerCertificate() of the client, an empty object when it sent none.
   * Read it as `(c.tls as TlsWithPeer)`: haraka.d.ts declares the other members.
   */
  interface TlsWithPeer {
    peerCertificate?: { raw?: Buffer; fingerprint256?: string; valid_from?: string; valid_to?: string }
  }
}
