// gateway-replies: every refusal a client gets carries an RFC 3463 enhanced code
// and a generic text, including those Haraka answers itself (syntax and sequence
// errors, a DENY's default text): lib/smtp/core-replies.ts decides, through a
// per-connection wrapper of Haraka's respond (lib/haraka/respond.ts). EHLO
// advertises ENHANCEDSTATUSCODES (RFC 2034), which the gateway's replies used
// all along. Loaded right after gateway-core on both instances, so it wraps
// respond before any other plugin's connect_init can answer.

import { overrideReplies } from '../../lib/haraka'
import { definePlugin } from '../../lib/plugin/define'
import { withEnhancedCode } from '../../lib/smtp/core-replies'

export = definePlugin({
  name: 'gateway-replies',
  instances: ['inbound', 'outbound'],
  hooks: ['connect_init', 'capabilities'],
  setup() {
    return {
      hooks: {
        connect_init(c) {
          overrideReplies(c, withEnhancedCode)
        },
        capabilities(c) {
          if (!c.capabilities.includes('ENHANCEDSTATUSCODES')) c.capabilities.push('ENHANCEDSTATUSCODES')
          return undefined
        },
      },
    }
  },
})
