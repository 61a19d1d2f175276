// gateway-org-stamp: placeholder (issue 9 work in progress).

import { definePlugin } from '../../lib/plugin/define'

export = definePlugin({
  name: 'gateway-org-stamp',
  instances: ['inbound'],
  hooks: [],
  setup() {
    return { hooks: {} }
  },
})
