// Preloaded into a gateway instance (NODE_OPTIONS=--require) when BENCH_CPU_PROF
// names a folder: V8's sampling profiler runs from start to exit and the profile is
// written as <folder>/<instance>-<pid>.cpuprofile (bare Haraka: bare-<pid>) (open it in Chrome DevTools).
// Plain CommonJS because Node loads it before anything is compiled; not
// `node --cpu-prof`, which NODE_OPTIONS does not allow. The in-process inspector
// session answers synchronously, so the 'exit' handler can still write the file.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const inspector = require('node:inspector')

const dir = process.env.BENCH_CPU_PROF
if (dir) {
  const session = new inspector.Session()
  session.connect()
  session.post('Profiler.enable')
  session.post('Profiler.setSamplingInterval', { interval: 200 })
  session.post('Profiler.start')
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return
      const name = `${process.env.BENCH_CPU_PROF_NAME || process.env.GATEWAY_INSTANCE || 'node'}-${process.pid}.cpuprofile`
      fs.writeFileSync(path.join(dir, name), JSON.stringify(result.profile))
    })
  })
}
