// gateway-submission-auth (outbound): the relay serves authenticated internal
// senders only. AUTH PLAIN/LOGIN is advertised and accepted only inside TLS, for
// every client address (loopback and private ones too: Haraka's stock flat_file
// plugin offers it in clear to those). Credentials are scrypt hashes managed by
// `gateway user`. Without a successful AUTH, every RCPT gets 530 5.7.0.

import path from 'node:path'

import { CredentialStore } from '../../lib/auth/credentials'
import { continueAuth, MECHANISMS, startAuth, type SaslState, type SaslStep } from '../../lib/auth/sasl'
import { instanceConfigDir } from '../../lib/config/paths'
import { pluginConfig } from '../../lib/config/plugin-config'
import { field } from '../../lib/config/schema'
import { definePlugin } from '../../lib/plugin/define'
import { accept, deny, reject, tempfail, type Verdict } from '../../lib/plugin/verdict'
import { REPLIES } from '../../lib/smtp/reply'

const schema = {
  main: {
    /** The credential file, relative to this instance's config folder. */
    users_file: field.string({ default: 'smtp-users' }),
    /** Failed attempts after which the session is closed. */
    max_failures: field.int({ default: 3, min: 1, max: 100 }),
    /** Delay before answering a failed attempt, growing with each failure (ms). */
    failure_delay_ms: field.int({ default: 1000, min: 0, max: 30_000 }),
  },
}

const NOTE_STATE = 'gateway_auth_state'
const NOTE_FAILURES = 'gateway_auth_failures'

export = definePlugin({
  name: 'gateway-submission-auth',
  setup({ plugin }) {
    const { main } = pluginConfig('gateway-submission-auth', schema)
    const store = new CredentialStore(path.resolve(instanceConfigDir(), main.users_file), (m) => plugin.logwarn(m))

    const respond = (c: Haraka.Connection, code: number, text: string) =>
      new Promise<void>((resolve) => c.respond(code, text, resolve))

    async function handle(c: Haraka.Connection, step: SaslStep): Promise<Verdict> {
      if (step.kind === 'error') {
        delete c.notes[NOTE_STATE]
        return deny(step.reply)
      }
      if (step.kind === 'challenge') {
        c.notes[NOTE_STATE] = step.state
        await respond(c, 334, step.text || ' ')
        return accept() // reply already sent
      }
      delete c.notes[NOTE_STATE]
      if (await store.verify(step.user, step.password)) {
        c.relaying = true
        c.notes.auth_user = step.user
        ;(c as unknown as { authheader: string }).authheader = '(authenticated bits=0)\n'
        c.results.add({ name: 'auth' }, { pass: plugin.name, method: step.mech, user: step.user })
        c.lognotice(plugin, `authenticated ${JSON.stringify(step.user)} (${step.mech})`)
        await respond(c, 235, '2.7.0 Authentication successful')
        return accept()
      }
      const failures = ((c.notes[NOTE_FAILURES] as number | undefined) ?? 0) + 1
      c.notes[NOTE_FAILURES] = failures
      c.results.add({ name: 'auth' }, { fail: plugin.name, method: step.mech })
      // The user name is logged for the administrator, never echoed to the client.
      c.lognotice(plugin, `authentication failed for ${JSON.stringify(step.user)} (${step.mech}), failure ${failures}`)
      await new Promise((r) => setTimeout(r, Math.min(main.failure_delay_ms * failures, 10_000)))
      if (failures >= main.max_failures) return tempfail(421, '4.7.0', 'Too many authentication failures', { disconnect: true })
      return reject(535, '5.7.8', 'Authentication credentials invalid')
    }

    return {
      hooks: {
        capabilities(c) {
          if (c.tls.enabled && !c.relaying) c.capabilities.push(`AUTH ${MECHANISMS.join(' ')}`)
        },
        unrecognized_command(c, [command = '', args = '']) {
          const state = c.notes[NOTE_STATE] as SaslState | undefined
          if (state) return handle(c, continueAuth(state, `${command} ${args}`.trim()))
          if (command.toUpperCase() !== 'AUTH') return undefined
          if (!c.tls.enabled) return reject(530, '5.7.0', 'Must issue a STARTTLS command first')
          if (c.relaying) return reject(503, '5.5.1', 'Already authenticated')
          if (c.transaction) return reject(503, '5.5.1', 'AUTH not permitted during a mail transaction')
          return handle(c, startAuth(args))
        },
        rcpt(c) {
          if (!c.relaying) return deny(REPLIES.authRequired)
          return undefined
        },
      },
    }
  },
})
