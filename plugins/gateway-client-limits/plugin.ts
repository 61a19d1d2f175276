// gateway-client-limits: per-client connection discipline, as Postfix's anvil,
// postscreen and smtpd limits and Exchange's receive connectors do it.
// At connect (before the greeting): open connections per client address (this
// process's count), new connections per address and window (Redis, or this
// process when Redis is down), and clients that talk before the greeting. During
// the session: protocol errors (and junk commands past a limit), a deadline per
// command, a minimum data rate inside DATA and a deadline for the whole session.
// Every limit is the check "client-limit" with its own result and the action of
// its section (reject, or monitor: recorded and counted, nothing done).
//
// Why not haraka-plugin-limit (1.3.2, installed): its concurrency and rate counts
// exist only in Redis and are skipped when Redis is unreachable (fails open), its
// concurrency key expires after 3 minutes (older sessions stop counting), it sets
// the expiry with a separate call after INCR, answers without enhanced status
// codes, counts errors only when the client next sends a valid command, and has no
// monitor mode and no exempt networks. Nor haraka-plugin-early_talker (1.0.2): it
// never checks private or loopback clients, answers 554 without an enhanced code,
// and only sees a complete line. The logic is in lib/limits/ (unit tested); what
// it needs of Haraka's internals is in lib/haraka/session-watch.ts.

import { field } from '../../lib/config/schema'
import { connectedAt, endSession, harakaSawEarlyTalk, onClientBytes, phaseOf, watchSession } from '../../lib/haraka/session-watch'
import { ConnectionRate } from '../../lib/limits/connection-rate'
import { ConnectionSlots } from '../../lib/limits/connection-slots'
import { SessionGuard, type SessionLimitResult } from '../../lib/limits/session-guard'
import { definePlugin } from '../../lib/plugin/define'
import { reject, tempfail, type Verdict } from '../../lib/plugin/verdict'
import { record } from '../../lib/policy/record'
import { acquireGatewayRedis } from '../../lib/redis/gateway-redis'

const CHECK = 'client-limit'
const action = () => field.oneOf(['reject', 'monitor'] as const, { default: 'reject' })

const schema = {
  main: {
    /** Client networks none of the connect-time limits apply to (connections, rate, early talker). */
    exempt: field.networks(),
  },
  connections: {
    action: action(),
    /** Open connections one client address may hold in this process; 0 = no limit. */
    max_per_ip: field.int({ default: 20, min: 0, max: 100_000 }),
    /** New connections one client address may open per rate_window (all nodes, through Redis); 0 = no limit. */
    rate_per_ip: field.int({ default: 60, min: 0, max: 1_000_000 }),
    rate_window: field.duration({ default: 60, min: 1, max: 86_400 }),
  },
  early_talker: {
    action: action(),
    /** How long the greeting waits; a client that sends anything before it is refused. 0s = off. */
    delay: field.duration({ default: 0, min: 0, max: 10 }),
  },
  errors: {
    action: action(),
    /** Protocol errors answered normally; the next one ends the session (421 4.7.0). 0 = no limit. */
    max: field.int({ default: 20, min: 0, max: 100_000 }),
    /** NOOP/RSET/VRFY/EXPN/HELP/ETRN allowed before each further one counts as an error. */
    junk_commands: field.int({ default: 100, min: 0, max: 1_000_000 }),
  },
  timeouts: {
    action: action(),
    /** Time for each command line after the server's reply; 0s = none. */
    command: field.duration({ default: 300, min: 0, max: 86_400 }),
    /** Longest session; 0s = none. */
    session: field.duration({ default: 1800, min: 0, max: 7 * 86_400 }),
    /** Bytes per second a client must at least send inside DATA (judged over data_rate_window); 0 = none. */
    data_min_rate: field.int({ default: 500, min: 0, max: 100_000_000 }),
    data_rate_window: field.duration({ default: 30, min: 1, max: 3600 }),
  },
}

const TOO_MANY_CONNECTIONS = 'Too many connections from your address, try again later'
const SESSION_REPLIES: Record<SessionLimitResult, [number, string, string]> = {
  too_many_errors: [421, '4.7.0', 'Too many errors, closing connection'],
  command_timeout: [421, '4.4.2', 'Timeout waiting for a command, closing connection'],
  session_timeout: [421, '4.4.2', 'Session time limit reached, closing connection'],
  data_rate: [421, '4.4.2', 'Data transfer too slow, closing connection'],
}

interface Session {
  readonly guard: SessionGuard
  /** This connection counts among its address's open connections (released once, at disconnect). */
  holdsSlot: boolean
  closed: boolean
  stopListening?: () => void
  talked: boolean
}

export = definePlugin({
  name: 'gateway-client-limits',
  instances: ['inbound', 'outbound'],
  hooks: ['connect_init', 'connect', 'queue_ok', 'disconnect'],
  config: schema,
  setup({ plugin, instance, config }) {
    const { exempt } = config.main
    const conn = config.connections
    const early = config.early_talker
    const t = config.timeouts
    const sessionLimits = {
      maxErrors: config.errors.max,
      junkCommands: config.errors.junk_commands,
      commandTimeout: t.command,
      sessionTimeout: t.session,
      dataMinRate: t.data_min_rate,
      dataRateWindow: t.data_rate_window,
    }
    const slots = new ConnectionSlots()
    const redis = conn.rate_per_ip > 0 ? acquireGatewayRedis((level, m) => (level === 'error' ? plugin.logerror(m) : plugin.lognotice(m))) : undefined
    const rate = redis
      ? new ConnectionRate(redis.client, (ip) => redis.keys.connectionRate(instance, ip), conn.rate_window, (m) => plugin.logwarn(m))
      : undefined
    const sessions = new WeakMap<Haraka.Connection, Session>()

    /** Records a limit passed; true when the configured action acts (reject). */
    const decide = (c: Haraka.Connection, result: string, act: 'reject' | 'monitor', detail: string): boolean => {
      // marks: false: a connection-level decision says nothing about the messages of the session
      record(plugin, c, { check: CHECK, result, action: act, detail }, { marks: false })
      return act === 'reject'
    }

    const startSession = (c: Haraka.Connection): Session => {
      const session: Session = {
        guard: new SessionGuard(sessionLimits, {
          phase: () => phaseOf(c),
          exceeded: (result, detail) => {
            // called from timers and from inside respond(): a throw here would reach the process, not a hook
            try {
              if (!decide(c, result, config[result === 'too_many_errors' ? 'errors' : 'timeouts'].action, detail)) return false
              const [code, enhanced, text] = SESSION_REPLIES[result]
              endSession(c, code, enhanced, text)
              return true
            } catch (err) {
              c.logerror(plugin, `${result}: ending the session failed: ${err instanceof Error ? err.message : String(err)}`)
              return false
            }
          },
        }),
        holdsSlot: false,
        closed: false,
        talked: false,
      }
      sessions.set(c, session)
      watchSession(c, {
        line: (phase, line) => session.guard.line(phase, line),
        replacing: (code) => session.guard.replacing(code),
        replied: (phase) => session.guard.replied(phase),
      })
      return session
    }

    /** The early-talker verdict: waits for the rest of `delay` (from the connection's start) unless the client talks first. */
    const earlyTalker = async (c: Haraka.Connection, s: Session): Promise<Verdict | undefined> => {
      if (!s.talked) {
        const wait = early.delay * 1000 - (Date.now() - connectedAt(c))
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, wait)
            const stop = onClientBytes(c, done)
            function done() {
              clearTimeout(timer)
              stop()
              resolve()
            }
          })
        }
      }
      s.stopListening?.()
      if (!s.talked && !harakaSawEarlyTalk(c)) return undefined
      if (!decide(c, 'early_talker', early.action, `delay=${early.delay}s`)) return undefined
      return reject(554, '5.5.0', 'Protocol error: data sent before the greeting', { disconnect: true })
    }

    return {
      hooks: {
        connect_init(c) {
          const s = startSession(c)
          if (early.delay > 0 && !exempt.contains(c.remote.ip)) {
            s.stopListening = onClientBytes(c, () => {
              s.talked = true
            })
          }
        },
        // synchronous unless it waits (connection rate through Redis, the early-talker pause):
        // an exempt or local client costs no promise and no deadline timer
        connect(c) {
          const s = sessions.get(c) ?? startSession(c)
          const ip = c.remote.ip
          if (s.closed || exempt.contains(ip)) return undefined
          // counted before any await: two connections arriving together cannot both see the old count
          s.holdsSlot = true
          const open = slots.take(ip)
          if (conn.max_per_ip > 0 && open > conn.max_per_ip) {
            if (decide(c, 'connections_per_ip', conn.action, `open=${open} max=${conn.max_per_ip}`)) {
              return tempfail(421, '4.7.0', TOO_MANY_CONNECTIONS, { disconnect: true })
            }
          }
          const afterRate = (): Verdict | Promise<Verdict | undefined> | undefined => (early.delay > 0 ? earlyTalker(c, s) : undefined)
          if (!rate) return afterRate()
          return rate.hit(ip).then((n) => {
            if (n > conn.rate_per_ip && decide(c, 'connection_rate', conn.action, `count=${n} max=${conn.rate_per_ip} window=${conn.rate_window}s`)) {
              return tempfail(421, '4.7.0', TOO_MANY_CONNECTIONS, { disconnect: true })
            }
            return afterRate()
          })
        },
        queue_ok(c) {
          sessions.get(c)?.guard.delivered()
        },
        disconnect(c) {
          const s = sessions.get(c)
          if (!s || s.closed) return
          s.closed = true
          s.guard.close()
          s.stopListening?.()
          if (s.holdsSlot) slots.release(c.remote.ip)
        },
      },
      shutdown: () => redis?.release(),
    }
  },
})
