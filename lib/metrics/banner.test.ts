// Unit test of the banner line: each instance's endpoint, a token, or off.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { metricsBannerLine } from './banner'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metrics-banner-'))
const write = (name: string, text: string) => {
  const f = path.join(dir, name)
  fs.writeFileSync(f, text)
  return f
}

describe('metricsBannerLine', () => {
  it('names each endpoint, its token requirement, or off', () => {
    const inbound = write('in.ini', '[http]\nlisten=127.0.0.1:9125\n')
    const outbound = write('out.ini', '[http]\nlisten=10.0.0.5:9126\ntoken=0123456789abcdef0\n')
    expect(metricsBannerLine({ inbound, outbound })).toBe('  metrics   http://127.0.0.1:9125/metrics (inbound), http://10.0.0.5:9126/metrics (outbound, bearer token required)')
    expect(metricsBannerLine({ inbound: write('off.ini', '[http]\nlisten=off\n'), outbound: path.join(dir, 'missing.ini') })).toBe('  metrics   off (inbound), off (outbound)')
  })

  it('shows the shipped addresses', () => {
    const root = path.resolve(__dirname, '..', '..')
    expect(metricsBannerLine({ inbound: path.join(root, 'inbound/config/gateway-metrics.ini'), outbound: path.join(root, 'outbound/config/gateway-metrics.ini') })).toBe(
      '  metrics   http://127.0.0.1:9125/metrics (inbound), http://127.0.0.1:9126/metrics (outbound)',
    )
  })
})
