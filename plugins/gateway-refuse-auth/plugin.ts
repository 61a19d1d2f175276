// gateway-refuse-auth (inbound): the Internet-facing instance never authenticates
// anyone, so there is nothing to guess passwords against. No AUTH is advertised
// (gateway-core refuses to start if an auth plugin is configured here) and an AUTH
// command gets a clear 503 instead of Haraka's generic "500 Unrecognized command".
// A client that sends credentials anyway (`AUTH PLAIN <initial response>`) does
// not get them logged: the credential intake takes them out of the line first.

import { installCredentialIntake, takeResponse } from '../../lib/submission/credential-intake'
import { definePlugin } from '../../lib/plugin/define'
import { reject } from '../../lib/plugin/verdict'

export = definePlugin({
  name: 'gateway-refuse-auth',
  instances: ['inbound'],
  hooks: ['connect_init', 'unrecognized_command'],
  setup() {
    return {
      hooks: {
        connect_init(c) {
          installCredentialIntake(c)
        },
        unrecognized_command(c, [command]) {
          if ((command ?? '').toUpperCase() !== 'AUTH') return
          takeResponse(c) // dropped unread
          return reject(503, '5.5.1', 'Authentication not available')
        },
      },
    }
  },
})
