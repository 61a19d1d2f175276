// The part of mailauth 4.9.5's DKIM verifier the tests use as an independent
// check of the gateway's signatures (test/security/memory.test.ts); mailauth ships no types.

declare module 'mailauth/lib/dkim/verify' {
  export interface DkimResult {
    signingDomain?: string
    selector?: string
    status: { result: string; comment?: string }
  }
  export function dkimVerify(
    message: string | Buffer,
    options: { resolver: (name: string, type: string) => Promise<unknown> },
  ): Promise<{ results: DkimResult[] }>
}
