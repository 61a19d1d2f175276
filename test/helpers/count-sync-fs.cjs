// Preloaded into a Haraka instance by test/per-message-fs.test.ts (NODE_OPTIONS
// --require): counts the synchronous file-system calls per path and writes them as
// JSON to $GATEWAY_TEST_SYNC_FS_DIR/<instance>-<pid>.json when the process exits,
// and to <instance>-<pid>.snapshot.json on SIGUSR2 (no Haraka use of that signal),
// so a test can subtract what startup did.
// Plain CommonJS: Node loads it before anything of the gateway or Haraka.
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const dir = process.env.GATEWAY_TEST_SYNC_FS_DIR
if (dir) {
  const counts = Object.create(null)
  for (const name of ['existsSync', 'statSync', 'lstatSync', 'accessSync', 'readFileSync', 'readdirSync', 'openSync']) {
    const original = fs[name]
    fs[name] = function (target, ...rest) {
      const key = `${name} ${String(target)}`
      counts[key] = (counts[key] || 0) + 1
      return original.call(this, target, ...rest)
    }
  }
  // written aside, then renamed: a reader waiting for the file never sees it half written
  const write = (suffix) => {
    const file = path.join(dir, `${process.env.GATEWAY_INSTANCE || 'node'}-${process.pid}${suffix}.json`)
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(counts))
    fs.renameSync(`${file}.tmp`, file)
  }
  process.on('SIGUSR2', () => write('.snapshot'))
  process.on('exit', () => write(''))
}
