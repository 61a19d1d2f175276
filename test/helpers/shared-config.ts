// The shared configuration a plugin's unit test runs against: a temporary
// config/ folder (gateway.ini as given, accepted_domains example.com) made the
// gateway's for the test file (GATEWAY_CONFIG_DIR, REDIS_URL = the suite's
// redis-server, no prefix override), restored and removed after the file.
// Call it at the top of the file, before the beforeAll that builds the harness:
// hooks run in the order they are registered (after-hooks in reverse).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterAll, beforeAll, inject } from 'vitest'

const ENV = ['GATEWAY_CONFIG_DIR', 'REDIS_URL', 'GATEWAY_REDIS_PREFIX'] as const

/** The folder (already written: usable at module scope); the environment is set from beforeAll to afterAll. */
export function sharedConfigForFile(gatewayIni: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugin-config-'))
  fs.writeFileSync(path.join(dir, 'gateway.ini'), gatewayIni)
  fs.writeFileSync(path.join(dir, 'accepted_domains'), 'example.com\n')
  const saved = new Map(ENV.map((k) => [k, process.env[k]]))
  beforeAll(() => {
    process.env.GATEWAY_CONFIG_DIR = dir
    process.env.REDIS_URL = inject('redisUrl')
    delete process.env.GATEWAY_REDIS_PREFIX
  })
  afterAll(() => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return dir
}
