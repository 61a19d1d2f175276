#!/usr/bin/env node
// Where one thread's CPU time went, from `perf script` output (Linux perf, cpu-clock
// samples with call chains): by kind of code at the sample (kernel, JIT-compiled JS,
// V8 builtins and runtime, libc, ...), by the JavaScript file that ran it (the
// innermost JS frame: a package, the gateway's dist/ folder, or a node: module) and
// by function (the innermost frame of a package or of dist/).
//
// Why not only BENCH_CPU_PROF: V8's sampling profiler records wall-clock time, so a
// thread that is preempted (two cores shared with the load generator, the sink and
// Redis) charges the wait to whatever ran last, mostly system calls; perf's
// cpu-clock samples only time on a CPU. bench/README.md has the commands.
//
// Usage: [ROWS=30] node bench/perf-split.cjs <perf-script.txt> <tid> [<from-second> <to-second> <messages>]
// Without a window it prints the samples per second of the thread, to find the
// measurement (the seconds where it is busy); seconds are perf's timestamps mod 1000.
// Plain CommonJS with no dependencies: it runs before (or without) a build.
'use strict'
const fs = require('node:fs')

const [file, tidArg, fromArg, toArg, messagesArg] = process.argv.slice(2)
if (!file || !tidArg) {
  console.error('usage: node bench/perf-split.cjs <perf-script.txt> <tid> [<from-second> <to-second> <messages>]')
  process.exit(2)
}
const tid = Number(tidArg)
const HEADER = /^\s*(\d+)\s+(\d+)\.\d+:/
/** A JIT-compiled JavaScript frame: tier mark, function name (may be empty), file, line. */
const JS_FRAME = /JS:[*^~+]?(\S*)\s+(\S+?):(\d+):\d+/

/** Each sample of the thread: its second and its frames, innermost first. */
function* samples() {
  for (const block of fs.readFileSync(file, 'utf8').split('\n\n')) {
    const lines = block.trim().split('\n')
    const m = HEADER.exec(lines[0] ?? '')
    if (!m || Number(m[1]) !== tid) continue
    yield { second: Number(m[2]) % 1000, frames: lines.slice(1).map((l) => l.trim()) }
  }
}

function kindOf(frame) {
  if (frame.includes('[kernel')) return 'kernel (system calls, network, page faults)'
  if (/JS:|RegExp:/.test(frame)) return 'JIT-compiled JavaScript'
  if (/libc\.so/.test(frame)) return 'libc (malloc, memcpy, write)'
  // the node binary's own symbols, or V8's builtins as a jitdump names them (bench/perf-profile.sh)
  if (/\(\/usr\/bin\/node\)|\/node\)|\b(Builtin|BytecodeHandler|Stub):/.test(frame)) {
    if (/Scaveng|Heap|MarkCompact|Sweep|Evacuat|Allocat|RecordWrite/.test(frame)) return 'V8 garbage collection'
    if (/IC_|IC \(|ICTrampoline|LoadGlobal|GetProperty|SetProperty|LookupIterator/.test(frame)) return 'V8 property access (inline caches)'
    return 'V8 builtins and runtime, node C++'
  }
  return 'other'
}

function ownerOf(frames) {
  for (const f of frames) {
    const m = JS_FRAME.exec(f)
    if (!m) continue
    const url = m[2]
    if (url.includes('/dist/')) return `gateway ${url.replace(/.*\/dist\//, '').split('/').slice(0, 2).join('/')}`
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
    if (pkg) return `package ${pkg[1]}`
    return url.startsWith('node:') ? `node ${url.split('/').slice(0, 2).join('/')}` : url
  }
  return '(no JavaScript frame: event loop, GC, libuv)'
}

/** The innermost function of a package or of the gateway (node: internals it calls are charged to it). */
function functionOf(frames) {
  for (const f of frames) {
    const m = JS_FRAME.exec(f)
    if (!m || !/\/dist\/|node_modules\//.test(m[2])) continue
    return `${m[1] || '(anonymous)'} ${m[2].replace(/.*\/(dist|node_modules)\//, '')}:${m[3]}`
  }
  return '(no package or gateway frame)'
}

function table(title, counts, total, perMessage) {
  console.log(`\n${title}`)
  for (const [key, n] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.ROWS ?? 30))) {
    console.log(`${((n / total) * 100).toFixed(1).padStart(6)} %  ${(n * perMessage).toFixed(0).padStart(6)} us/msg  ${key}`)
  }
}

if (fromArg === undefined) {
  const perSecond = new Map()
  for (const s of samples()) perSecond.set(s.second, (perSecond.get(s.second) ?? 0) + 1)
  for (const [second, n] of [...perSecond].sort((a, b) => a[0] - b[0])) console.log(`${String(second).padStart(4)}  ${n}`)
} else {
  const from = Number(fromArg)
  const to = Number(toArg)
  const messages = Number(messagesArg ?? 1)
  const kinds = new Map()
  const owners = new Map()
  const functions = new Map()
  let total = 0
  for (const s of samples()) {
    if (s.second < from || s.second > to) continue
    total++
    const kind = kindOf(s.frames[0] ?? '')
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1)
    const owner = ownerOf(s.frames)
    owners.set(owner, (owners.get(owner) ?? 0) + 1)
    const fn = functionOf(s.frames)
    functions.set(fn, (functions.get(fn) ?? 0) + 1)
  }
  if (total === 0) {
    console.error(`no samples of thread ${tid} between seconds ${from} and ${to}`)
    process.exit(1)
  }
  // perf record -F: samples per second of CPU time
  const hz = Number(process.env.PERF_HZ ?? 499)
  const perMessage = 1e6 / hz / messages
  console.log(`thread ${tid}, seconds ${from}-${to}: ${total} samples = ${(total / hz).toFixed(2)} s of CPU, ${((total * perMessage) / 1000).toFixed(2)} ms per message (${messages} messages, ${hz} Hz)`)
  table('by kind of code at the sample', kinds, total, perMessage)
  table('by the JavaScript file that ran it (innermost JS frame)', owners, total, perMessage)
  table('by function (innermost frame of a package or of dist/, with the node: internals it called)', functions, total, perMessage)
}
