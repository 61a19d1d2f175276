// One real Redis for the whole test run (each test gateway uses its own key
// prefix), and the build check: integration tests run the compiled plugins.

import fs from 'node:fs'
import path from 'node:path'

import type { TestProject } from 'vitest/node'

import { TestRedis } from './helpers/redis-server'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
  }
}

let redis: TestRedis | undefined

export async function setup(project: TestProject): Promise<void> {
  const built = path.join(__dirname, '..', 'dist', 'plugins', 'gateway-core', 'plugin.js')
  if (!fs.existsSync(built)) throw new Error('dist/ is missing: run "npm run build" first ("npm test" does)')
  redis = await new TestRedis().start()
  project.provide('redisUrl', redis.url)
}

export async function teardown(): Promise<void> {
  await redis?.stop()
}
