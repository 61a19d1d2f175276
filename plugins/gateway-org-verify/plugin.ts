// gateway-org-verify: placeholder (issue 9 work in progress).

import { definePlugin } from '../../lib/plugin/define'

export = definePlugin({
  name: 'gateway-org-verify',
  instances: ['outbound'],
  hooks: [],
  setup() {
    return { hooks: {} }
  },
})
