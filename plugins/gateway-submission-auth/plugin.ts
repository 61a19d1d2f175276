// gateway-submission-auth (outbound): the relay serves authenticated internal
// senders only, and each only as what it owns. AUTH PLAIN/LOGIN is advertised
// and accepted only inside TLS, for every client address (loopback and private
// ones too: Haraka's stock flat_file plugin offers it in clear to those);
// credentials are scrypt hashes managed by `gateway user`. Wrong passwords are
// counted per client IP and user name in Redis (shared by all outbound nodes;
// without Redis, per process) and lock AUTH out for a window (lib/submission/lockout.ts).
// Internal servers may instead present a pinned client certificate. MAIL FROM and
// the header From must lie in the sender's scope.
// Without authentication, every RCPT gets 530 5.7.0.

import path from 'node:path'

import { awaitResponse, installCredentialIntake, takeResponse } from '../../lib/submission/credential-intake'
import { CredentialStore } from '../../lib/submission/credentials'
import { AuthLockout, WAIT_BUDGET_MS, type AttemptOutcome, type LockScope } from '../../lib/submission/lockout'
import { displayFingerprint } from '../../lib/submission/peers'
import { ScopeStore, type ScopeSource } from '../../lib/submission/scope-file'
import { continueAuth, MECHANISMS, startAuth, type SaslState, type SaslStep } from '../../lib/submission/sasl'
import type { SenderScope } from '../../lib/submission/sender-scope'
import { checkTlsForPeers, loadSubmissionConfig } from '../../lib/submission/config'
import { instanceConfigDir } from '../../lib/config/paths'
import { definePlugin } from '../../lib/plugin/define'
import { AUTH_USER } from '../../lib/plugin/haraka-notes'
import { sessionState } from '../../lib/plugin/state'
import { acceptAndStop, deny, type Verdict } from '../../lib/plugin/verdict'
import { decide } from '../../lib/policy/actions'
import { record } from '../../lib/policy/record'
import { acquireGatewayRedis } from '../../lib/redis/gateway-redis'
import { parseMailboxes, rawFields } from '../../lib/address/authors'
import { REPLIES, reply } from '../../lib/smtp/reply'

/** Who the session is authenticated as. */
interface Identity {
  kind: 'user' | 'peer'
  name: string
  /** Peers carry their scope from the config; users' scopes are looked up (the file may change). */
  scope?: SenderScope
}

/** An AUTH exchange waiting for the client's next line (after a 334). */
const SASL = sessionState<SaslState>('gateway_auth_state')
/** Wrong passwords in this session. */
const FAILURES = sessionState<number>('gateway_auth_failures')
const IDENTITY = sessionState<Identity>('gateway_auth_identity')
/** An unpinned or expired client certificate was already logged for this session. */
const CERT_SEEN = sessionState<boolean>('gateway_auth_cert_seen')

const INVALID = reply(535, '5.7.8', 'Authentication credentials invalid')
// RFC 4954's answer for a temporary authentication failure. It is the same for a
// right or a wrong password and for existing or unknown users: it tells the
// client to come back later, nothing about the credentials.
const LOCKED_OUT = reply(454, '4.7.0', 'Temporary authentication failure')
const TOO_MANY = reply(421, '4.7.0', 'Too many authentication failures')
const SENDER_REFUSED = reply(550, '5.7.1', 'Sender address rejected: not authorised for this account')
const FROM_REFUSED = reply(550, '5.7.1', 'Message rejected: From address not authorised for this account')

export = definePlugin({
  name: 'gateway-submission-auth',
  instances: ['outbound'],
  hooks: ['capabilities', 'connect_init', 'unrecognized_command', 'mail', 'rcpt', 'data_post'],
  config: loadSubmissionConfig,
  setup({ plugin, config: cfg, gateway }) {
    const dir = instanceConfigDir()
    const warn = (m: string) => plugin.logwarn(m)
    const store = new CredentialStore(path.resolve(dir, cfg.usersFile), warn, { verifiedCacheSeconds: cfg.verifiedCacheSeconds })
    const scopes = new ScopeStore(path.resolve(dir, cfg.scopesFile), gateway.acceptedDomains, warn)
    if (cfg.peers.size > 0) {
      // tls.ini as Haraka's TLS layer reads it (same booleans and defaults as tls_socket.load_tls_ini)
      const getIni = plugin.config.get as unknown as (name: string, opts: { booleans: string[] }) => { main?: Record<string, unknown> }
      const tls = getIni.call(plugin.config, 'tls.ini', { booleans: ['+main.requestCert', '-main.rejectUnauthorized'] })
      checkTlsForPeers(tls.main, path.join(dir, 'tls.ini'))
    }

    const counting = cfg.lockout.maxPerIp > 0 || cfg.lockout.maxPerUser > 0
    const redis = counting ? acquireGatewayRedis((level, m) => (level === 'error' ? plugin.logerror(m) : plugin.lognotice(m))) : undefined
    const lockout = redis ? new AuthLockout(redis.client, redis.keys, cfg.lockout, warn) : undefined

    const respond = (c: Haraka.Connection, code: number, text: string) =>
      new Promise<void>((resolve) => c.respond(code, text, resolve))

    const identityOf = (c: Haraka.Connection) => IDENTITY.get(c)

    function authenticated(c: Haraka.Connection, id: Identity): void {
      c.relaying = true
      IDENTITY.set(c, id)
      if (id.kind === 'user') AUTH_USER.set(c, id.name)
      c.authheader = '(authenticated bits=0)\n'
    }

    /**
     * The password was not checked (in-flight checks of this address or name kept the limit
     * full until the deadline), or a late result is withheld: the lockout's temporary failure,
     * which tells nothing about the password. Counts nothing; the client may try again.
     */
    function notChecked(c: Haraka.Connection, user: string, result: 'busy' | 'late'): Verdict {
      const why = result === 'busy' ? 'other AUTH checks in flight filled the limit until the deadline' : 'the check outlived its lease; result withheld'
      record(plugin, c, { check: 'auth-lockout', result, action: 'tempfail', detail: `${why}; AUTH as ${user} from ${c.remote.ip}` }, { resultsAs: 'auth' })
      return deny(LOCKED_OUT)
    }

    function lockedOut(c: Haraka.Connection, user: string, state: { by: LockScope; failures: number }): Verdict {
      const detail = `${state.failures} failures for ${state.by === 'ip' ? c.remote.ip : user}; AUTH as ${user} refused`
      record(plugin, c, { check: 'auth-lockout', result: `locked_${state.by}`, action: 'tempfail', detail }, { resultsAs: 'auth' })
      return deny(LOCKED_OUT, { disconnect: true })
    }

    /** Whether `run` (if any) ended within `ms`. */
    async function waitFor(run: Promise<void> | undefined, ms: number): Promise<boolean> {
      if (!run) return false
      let timer: NodeJS.Timeout | undefined
      const expired = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)))
      try {
        return await Promise.race([run.then(() => true), expired])
      } finally {
        clearTimeout(timer)
      }
    }

    /** The pause before answering a session's `n`-th wrong password. */
    const failureDelay = (n: number) => Math.min(cfg.failureDelayMs * n, 10_000)

    async function handle(c: Haraka.Connection, step: SaslStep): Promise<Verdict> {
      if (step.kind === 'error') {
        SASL.delete(c)
        return deny(step.reply)
      }
      if (step.kind === 'challenge') {
        SASL.set(c, step.state)
        awaitResponse(c)
        await respond(c, 334, step.text || ' ')
        return acceptAndStop() // reply already sent: nothing else may answer this line
      }
      SASL.delete(c)
      // The lockout decides whether the password may be checked at all (a locked-out guesser
      // learns nothing, even with the right one; parallel attempts wait for in-flight checks
      // instead of being refused, as long as the hook's time leaves after this attempt's
      // failure delay) and counts only a wrong password.
      // A password verified within verified_cache_ttl needs no check: only the lock is asked.
      // Another session checking this same password for this user (a server's burst after the
      // remembered verification expired) is waited for, within this attempt's budget.
      const verify = () => store.verify(step.user, step.password)
      const nextFailure = (FAILURES.get(c) ?? 0) + 1
      const started = performance.now()
      const waitBudget = WAIT_BUDGET_MS - failureDelay(nextFailure)
      const known =
        store.knownValid(step.user, step.password) ||
        ((await waitFor(store.underWay(step.user, step.password), waitBudget)) && store.knownValid(step.user, step.password))
      const budget = waitBudget - (performance.now() - started)
      const outcome: AttemptOutcome = known
        ? lockout
          ? await lockout.attemptKnown(c.remote.ip, step.user)
          : { kind: 'succeeded' }
        : await store.lead(step.user, step.password, async () =>
            lockout
              ? lockout.attempt(c.remote.ip, step.user, verify, budget)
              : (await verify())
                ? { kind: 'succeeded' }
                : { kind: 'failed', late: false },
          )
      if (outcome.kind === 'locked') return lockedOut(c, step.user, outcome)
      if (outcome.kind === 'busy') return notChecked(c, step.user, 'busy')
      if (outcome.kind === 'late') {
        // a right password checked too late to count: answered exactly as a late wrong one (same delay and reply)
        await new Promise((r) => setTimeout(r, failureDelay(nextFailure)))
        return notChecked(c, step.user, 'late')
      }
      if (outcome.kind === 'succeeded') {
        authenticated(c, { kind: 'user', name: step.user })
        c.results.add({ name: 'auth' }, { pass: plugin.name, method: step.mech, user: step.user })
        const { scope, source } = scopes.scopeOf(step.user)
        c.lognotice(plugin, `authenticated ${JSON.stringify(step.user)} (${step.mech}); may send as ${scope.toString()} (${source})`)
        await respond(c, 235, '2.7.0 Authentication successful')
        return acceptAndStop() // reply already sent
      }
      const failures = (FAILURES.get(c) ?? 0) + 1
      FAILURES.set(c, failures)
      c.results.add({ name: 'auth' }, { fail: plugin.name, method: step.mech })
      record(plugin, c, { check: 'auth', result: 'invalid_credentials', action: 'reject', detail: `${step.user} (${step.mech}), failure ${failures}` })
      // The user name is logged for the administrator, never echoed to the client.
      c.lognotice(plugin, `authentication failed for ${JSON.stringify(step.user)} (${step.mech}), failure ${failures}`)
      await new Promise((r) => setTimeout(r, failureDelay(failures)))
      if (outcome.late) return notChecked(c, step.user, 'late')
      if (outcome.locked) return lockedOut(c, step.user, outcome.locked)
      if (failures >= cfg.maxFailures) return deny(TOO_MANY, { disconnect: true })
      return deny(INVALID)
    }

    /** After STARTTLS: a pinned client certificate authenticates the session as its peer. */
    function identifyPeer(c: Haraka.Connection): void {
      if (cfg.peers.size === 0 || !c.tls.enabled || c.relaying) return
      const match = cfg.peers.match((c.tls as Haraka.TlsWithPeer).peerCertificate, new Date())
      if (match.kind === 'peer') {
        authenticated(c, { kind: 'peer', name: match.peer.name, scope: match.peer.scope })
        c.results.add({ name: 'auth' }, { pass: plugin.name, method: 'client-certificate', user: `peer:${match.peer.name}` })
        c.lognotice(plugin, `authenticated peer ${JSON.stringify(match.peer.name)} by client certificate sha256=${displayFingerprint(match.fingerprint)}`)
        return
      }
      if (match.kind === 'none' || CERT_SEEN.get(c)) return
      CERT_SEEN.set(c, true)
      if (match.kind === 'expired') {
        c.logwarn(plugin, `client certificate of peer ${JSON.stringify(match.peer.name)} is expired or not yet valid: it must AUTH`)
      } else {
        c.loginfo(plugin, `client certificate sha256=${displayFingerprint(match.fingerprint)} is not pinned: AUTH required`)
      }
    }

    function scopeOf(id: Identity): { scope: SenderScope; source: ScopeSource | 'peer' } {
      return id.scope ? { scope: id.scope, source: 'peer' } : scopes.scopeOf(id.name)
    }

    /**
     * A sender outside the scope: a policy decision (log line, results, counter), but
     * never a mark: marks go into the X-Gateway-Checks header, which on this instance
     * would go out to the Internet and tell it who may send as whom.
     */
    function outOfScope(c: Haraka.Connection, id: Identity, result: string, address: string, refusal: typeof SENDER_REFUSED): Verdict | undefined {
      const { scope, source } = scopeOf(id)
      const detail = `${id.kind} ${id.name} used ${address}; may send as ${scope.toString()} (${source})`
      return decide(plugin, c, { check: 'sender-scope', result, detail, reply: refusal }, cfg.senderAction, { marks: false })
    }

    return {
      hooks: {
        capabilities(c) {
          identifyPeer(c)
          if (c.tls.enabled && !c.relaying) c.capabilities.push(`AUTH ${MECHANISMS.join(' ')}`)
        },
        // Credentials never reach Haraka's log or hook parameters: the intake takes them
        // out of each line first (the next line after a 334 is always the response, so no
        // command, MAIL included, can interleave with an exchange).
        connect_init(c) {
          installCredentialIntake(c)
        },
        unrecognized_command(c, [command = '', args = '']) {
          const state = SASL.get(c)
          if (state) return handle(c, continueAuth(state, takeResponse(c) ?? ''))
          if (command.toUpperCase() !== 'AUTH') return undefined
          const initial = takeResponse(c)
          if (!c.tls.enabled) return deny(reply(530, '5.7.0', 'Must issue a STARTTLS command first'))
          if (c.relaying) return deny(reply(503, '5.5.1', 'Already authenticated'))
          if (c.transaction) return deny(reply(503, '5.5.1', 'AUTH not permitted during a mail transaction'))
          return handle(c, startAuth(args.split(' ')[0] ?? '', initial))
        },
        mail(c, _txn, [from]) {
          identifyPeer(c)
          const id = identityOf(c)
          if (!id) return undefined // not authenticated: RCPT answers 530
          const address = from.isNull() ? '' : from.address.toLowerCase()
          if (scopeOf(id).scope.allows(address)) return undefined
          return outOfScope(c, id, 'envelope_out_of_scope', address || '<>', SENDER_REFUSED)
        },
        rcpt(c) {
          if (!c.relaying) return deny(REPLIES.authRequired)
          return undefined
        },
        data_post(c, txn) {
          const id = identityOf(c)
          if (!id) return undefined
          // What the recipient sees as the author, read as mail clients and DKIM read it: exactly
          // one From field (RFC 5322), parsed by an RFC 5322 parser; anything a receiver could read
          // differently (no From, several, unparseable) is refused, since nothing here could vouch for it.
          const { scope } = scopeOf(id)
          const froms = rawFields(txn.header.header_list, 'From')
          if (froms.length === 0) return outOfScope(c, id, 'header_from_missing', '(no From)', FROM_REFUSED)
          if (froms.length > 1) return outOfScope(c, id, 'header_from_multiple', `${froms.length} From fields`, FROM_REFUSED)
          const authors = parseMailboxes(froms[0]!.value)
          if (!authors.ok) return outOfScope(c, id, 'header_from_unparseable', authors.problem, FROM_REFUSED)
          const foreign = authors.addresses.find((a) => !scope.allows(a))
          if (foreign) return outOfScope(c, id, 'header_from_out_of_scope', foreign, FROM_REFUSED)
          // Sender: names the mailbox responsible for sending (clients show "on behalf of"; DKIM may pick its key from it)
          const senders = rawFields(txn.header.header_list, 'Sender')
          if (senders.length > 1) return outOfScope(c, id, 'header_sender_multiple', `${senders.length} Sender fields`, FROM_REFUSED)
          if (senders.length === 1) {
            const sender = parseMailboxes(senders[0]!.value)
            if (!sender.ok) return outOfScope(c, id, 'header_sender_unparseable', sender.problem, FROM_REFUSED)
            const outside = sender.addresses.find((a) => !scope.allows(a))
            if (outside) return outOfScope(c, id, 'header_sender_out_of_scope', outside, FROM_REFUSED)
          }
          return undefined
        },
      },
      shutdown: () => redis?.release(),
    }
  },
})
