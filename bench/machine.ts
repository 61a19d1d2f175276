// What the numbers were measured on: hardware, kernel and every program's version.

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { GATEWAY_ROOT } from '../lib/config/paths'

function firstLine(cmd: string, args: string[]): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 })
    return out.split('\n').find((l) => l.trim())?.trim() ?? '?'
  } catch (err) {
    const e = err as { stdout?: string; code?: string }
    return e.code === 'ENOENT' ? 'not installed' : (e.stdout?.split('\n')[0]?.trim() ?? '?')
  }
}

export function machineFacts(): [string, string][] {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?'
  const haraka = JSON.parse(fs.readFileSync(path.join(GATEWAY_ROOT, 'node_modules', 'haraka', 'package.json'), 'utf8')) as { version: string }
  return [
    ['CPU', `${cpu}, ${os.cpus().length} logical cores`],
    ['RAM', `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`],
    ['Kernel', `${os.type()} ${os.release()}`],
    ['Node', process.version],
    ['Haraka', haraka.version],
    ['Postfix', firstLine('/usr/sbin/postconf', ['-d', '-h', 'mail_version'])],
    ['Redis', firstLine('redis-server', ['--version'])],
    ['rspamd', firstLine(process.env.RSPAMD_BIN ?? '/usr/bin/rspamd', ['--version'])],
    ['clamd', firstLine(process.env.CLAMD_BIN ?? '/usr/sbin/clamd', ['--version'])],
  ]
}
