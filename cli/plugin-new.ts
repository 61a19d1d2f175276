// `gateway plugin new NAME`: starts a team's own policy check as a working, tested
// plugin (the files come from plugin-template.ts). Its source goes into the
// install's plugins/NAME/, an npm workspace package compiled by `npm run build`
// with the gateway's own plugins and linked by `npm install` as
// node_modules/haraka-plugin-NAME, which is where Haraka finds it from any
// deployment root (Haraka searches the node_modules holding Haraka itself). Its
// settings file goes into the deployment: <instance>/config/NAME.ini (GATEWAY_ROOT).
// The plugins list is left alone (a listed plugin that is not built yet would stop
// the next start); the command says where the line goes. A name that is unsafe or
// taken is refused with one line (exit 65) and nothing is written.

import fs from 'node:fs'
import path from 'node:path'

import { readList } from '../lib/config/ini'
import { deploymentRoot, displayPath, GATEWAY_ROOT, instanceDir, type InstanceName } from '../lib/config/paths'
import { locatePlugin } from '../lib/plugin/catalog'
import { PLUGIN_HOOKS, pluginFiles, settingsFile, type PluginHook, type PluginSpec } from './plugin-template'

const USAGE = 'usage: gateway plugin new NAME [--instance inbound|outbound|both] [--hook rcpt|mail|data_post]'
const HELP = `${USAGE}
  Creates plugins/NAME/ (a policy check at the hook, default rcpt, with its unit test)
  and <instance>/config/NAME.ini (default instance: inbound), then prints the next steps.`

/** Lower-case letters, digits and inner hyphens: a folder, an npm package and an .ini name at once. */
const SAFE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/

/** Names an object lookup would confuse with what every object inherits. */
const PROTOTYPE_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype'].map((n) => n.toLowerCase()))

class UsageError extends Error {}
class RefusedName extends Error {}

export function pluginCommand(args: string[]): number {
  const [action, ...rest] = args
  if (action !== 'new') {
    console.error(HELP)
    return action === 'help' || action === '--help' ? 0 : 64
  }
  try {
    const spec = parse(rest)
    refuseUnsafe(spec)
    const created = write(spec)
    for (const file of created) console.log(`created ${displayPath(file)}`)
    console.log(nextSteps(spec))
    return 0
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`gateway: plugin new: ${err.message} (${USAGE})`)
      return 64 // EX_USAGE
    }
    if (err instanceof RefusedName) {
      console.error(`gateway: plugin new: ${err.message}`)
      return 65 // EX_DATAERR
    }
    throw err
  }
}

function parse(args: string[]): PluginSpec {
  let name: string | undefined
  let instances: readonly InstanceName[] = ['inbound']
  let hook: PluginHook = 'rcpt'
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const option = /^--(instance|hook)(?:=(.*))?$/.exec(arg)
    if (option) {
      const value = option[2] ?? args[++i]
      if (value === undefined) throw new UsageError(`--${option[1]} needs a value`)
      if (option[1] === 'instance') {
        if (value !== 'inbound' && value !== 'outbound' && value !== 'both') throw new UsageError(`unknown instance "${value}"`)
        instances = value === 'both' ? ['inbound', 'outbound'] : [value]
      } else {
        if (!(PLUGIN_HOOKS as readonly string[]).includes(value)) throw new UsageError(`unsupported hook "${value}"`)
        hook = value as PluginHook
      }
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option "${arg}"`)
    else if (name === undefined) name = arg
    else throw new UsageError(`unexpected argument "${arg}"`)
  }
  if (name === undefined) throw new UsageError('NAME is missing')
  return { name, instances, hook }
}

/** Throws RefusedName for a name that is not safe, or that Haraka would already resolve to something else. */
function refuseUnsafe({ name, instances }: PluginSpec): void {
  const refuse = (why: string): never => {
    throw new RefusedName(`refused plugin name ${JSON.stringify(name)}: ${why}`)
  }
  if (!SAFE_NAME.test(name)) refuse('use lower-case letters, digits and hyphens (not first or last), at most 64')
  if (PROTOTYPE_NAMES.has(name)) refuse('a JavaScript prototype name, which lookups keyed by plugin name would confuse')
  if (name.startsWith('haraka-plugin-')) refuse(`Haraka drops the haraka-plugin- prefix: name it ${name.slice('haraka-plugin-'.length)}`)
  const source = path.join(GATEWAY_ROOT, 'plugins', name)
  if (fs.existsSync(source)) refuse(`${displayPath(source)} already exists`)
  for (const instance of ['inbound', 'outbound'] as const) {
    const found = locatePlugin(instanceDir(instance), name)
    if (found) refuse(`Haraka already loads a plugin of that name (${displayPath(found.kind === 'file' ? found.path : found.dir)})`)
  }
  for (const instance of instances) {
    const configDir = path.join(instanceDir(instance), 'config')
    if (!fs.existsSync(configDir)) refuse(`no ${instance} configuration at ${configDir} (is GATEWAY_ROOT right?)`)
    const ini = path.join(configDir, `${name}.ini`)
    if (fs.existsSync(ini)) refuse(`${displayPath(ini)} already exists`)
  }
}

/** Writes every file or none; returns what it created. */
function write(spec: PluginSpec): string[] {
  const dir = path.join(GATEWAY_ROOT, 'plugins', spec.name)
  const created: string[] = []
  const made: string[] = [] // what to remove if a later write fails
  try {
    fs.mkdirSync(dir) // not recursive: fails if another run created it meanwhile
    made.push(dir)
    for (const [file, text] of Object.entries(pluginFiles(spec))) {
      fs.writeFileSync(path.join(dir, file), text, { flag: 'wx' })
      created.push(path.join(dir, file))
    }
    for (const instance of spec.instances) {
      const ini = path.join(instanceDir(instance), 'config', `${spec.name}.ini`)
      fs.writeFileSync(ini, settingsFile(spec), { flag: 'wx' })
      made.push(ini)
      created.push(ini)
    }
  } catch (err) {
    for (const p of made.reverse()) fs.rmSync(p, { recursive: true, force: true })
    throw err
  }
  return created
}

/** Where the plugin's line goes in each instance's list: after this plugin (its order rules allow it there). */
const ANCHOR: Record<InstanceName, Record<PluginHook, string>> = {
  inbound: { rcpt: 'gateway-recipients', mail: 'gateway-sender-filter', data_post: 'gateway-sender-filter' },
  outbound: { rcpt: 'gateway-submission-auth', mail: 'gateway-submission-auth', data_post: 'gateway-submission-auth' },
}

function placement(instance: InstanceName, spec: PluginSpec): string {
  const file = path.join(instanceDir(instance), 'config', 'plugins')
  const anchor = ANCHOR[instance][spec.hook]
  let line: number | undefined
  try {
    line = readList(file).find((e) => e.value === anchor)?.line
  } catch {
    line = undefined // unreadable list: check-config will say more
  }
  const where = line === undefined ? `where its order rules allow (e.g. after ${anchor})` : `after ${anchor} (line ${line})`
  const why = spec.hook === 'rcpt' && instance === 'inbound' ? ', before gateway-accepted-domains: it ends the rcpt chain' : ''
  return `add the line "${spec.name}" to ${displayPath(file)} ${where}${why}`
}

function nextSteps(spec: PluginSpec): string {
  const source = displayPath(path.join(GATEWAY_ROOT, 'plugins', spec.name))
  const inis = spec.instances.map((i) => displayPath(path.join(instanceDir(i), 'config', `${spec.name}.ini`))).join(' and ')
  const inRoot = path.resolve(process.cwd()) === GATEWAY_ROOT ? '' : ` (in ${GATEWAY_ROOT})`
  const elsewhere = deploymentRoot() === GATEWAY_ROOT ? '' : `, with GATEWAY_ROOT=${deploymentRoot()}`
  const steps = [
    `npm install${inRoot}: links the package as node_modules/haraka-plugin-${spec.name}, where Haraka finds it`,
    `write your check in ${source}/check.ts (detection) and plugin.ts (hooks); test it: npx vitest run plugins/${spec.name}`,
    ...spec.instances.map((i) => placement(i, spec)),
    `list what to report (addresses[]) and choose the action in ${inis}; without addresses the check stays off`,
    `npm run build && gateway check-config${elsewhere}, then restart the gateway`,
  ]
  return `next steps:\n${steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}`
}
