// gateway-track: placeholder (issue 9 work in progress).

import { definePlugin } from '../../lib/plugin/define'

export = definePlugin({
  name: 'gateway-track',
  instances: ['inbound', 'outbound'],
  hooks: [],
  setup() {
    return { hooks: {} }
  },
})
