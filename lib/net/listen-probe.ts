// Run as a child process by listenProblemsSync (listen-check.ts): tries to listen
// on each address given as JSON in argv[2] and prints, as JSON, why each fails
// (null where it works). A separate process because the caller (an instance's
// register()) must decide synchronously.

import { listenProblem } from './listen-check'
import type { HostPort } from './address'

async function main(): Promise<void> {
  const addrs = JSON.parse(process.argv[2] ?? '[]') as HostPort[]
  const problems = await Promise.all(addrs.map(async (a) => (await listenProblem(a)) ?? null))
  process.stdout.write(JSON.stringify(problems))
}

void main()
