// What a gateway variant takes from the repository as shipped, where the test
// helpers (test/helpers/gateway.ts) would change it: the log level (tests run at
// info to read Haraka's detail lines; an operator runs the shipped notice), and,
// on request, a CPU profile of the instance for finding where its time goes.
//
//   BENCH_CPU_PROF=DIR   each gateway instance (and bare Haraka) writes a V8 .cpuprofile into DIR when
//                        it stops (bench/cpu-profile.cjs; open it in Chrome DevTools)

import fs from 'node:fs'
import path from 'node:path'

import { GATEWAY_ROOT } from '../../lib/config/paths'

/** The repository's own log.ini of `instance`, for the variant's files. */
export function shippedLogIni(instance: 'inbound' | 'outbound'): Record<string, string> {
  return { [`${instance}/config/log.ini`]: fs.readFileSync(path.join(GATEWAY_ROOT, instance, 'config', 'log.ini'), 'utf8') }
}

/** NODE_OPTIONS preloading bench/cpu-profile.cjs when BENCH_CPU_PROF names a folder, else nothing. */
export function profileEnv(): Record<string, string> {
  const dir = process.env.BENCH_CPU_PROF
  if (!dir) return {}
  fs.mkdirSync(dir, { recursive: true })
  const preload = path.join(GATEWAY_ROOT, 'bench', 'cpu-profile.cjs')
  return { BENCH_CPU_PROF: path.resolve(dir), NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}`.trim() }
}
