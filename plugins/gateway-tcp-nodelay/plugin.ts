// gateway-tcp-nodelay (either instance): sets TCP_NODELAY on the SMTP connections
// Haraka's delivery queue opens (outbound: to Internet MX hosts; inbound: to the
// internal servers), so a message does not wait ~40 ms on delayed ACKs. No hooks
// and no settings: loading it is the switch. See lib/net/nodelay.ts.

import { definePlugin } from '../../lib/plugin/define'
import { setNoDelayOnClients } from '../../lib/net/nodelay'

export = definePlugin({
  name: 'gateway-tcp-nodelay',
  instances: ['inbound', 'outbound'],
  hooks: [],
  setup({ plugin }) {
    setNoDelayOnClients(plugin, (why) => plugin.logwarn(why))
    plugin.loginfo('TCP_NODELAY on for outgoing SMTP connections')
    return { hooks: {} }
  },
})
