// The files the dashboard serves, read once at startup: its page, script and
// style from lib/dashboard/static in the installation (tsc compiles only .ts, so
// compiled code reads them from the source tree too), and uPlot straight from
// node_modules (no CDN: the dashboard works without Internet access).

import fs from 'node:fs'
import path from 'node:path'

import { GATEWAY_ROOT } from '../config/paths'

export interface Asset {
  readonly type: string
  readonly body: Buffer
}

export const STATIC_DIR = path.join(GATEWAY_ROOT, 'lib', 'dashboard', 'static')

const FILES: readonly [url: string, file: () => string, type: string][] = [
  ['/', () => path.join(STATIC_DIR, 'index.html'), 'text/html; charset=utf-8'],
  ['/dashboard.js', () => path.join(STATIC_DIR, 'dashboard.js'), 'text/javascript; charset=utf-8'],
  ['/dashboard.css', () => path.join(STATIC_DIR, 'dashboard.css'), 'text/css; charset=utf-8'],
  ['/vendor/uPlot.iife.min.js', () => require.resolve('uplot/dist/uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
  ['/vendor/uPlot.min.css', () => require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
]

/** URL path -> file contents and type. */
export function loadAssets(): ReadonlyMap<string, Asset> {
  return new Map(FILES.map(([url, file, type]) => [url, { type, body: fs.readFileSync(file()) }]))
}
