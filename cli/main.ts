// The `gateway` command: one entry point for operators.

import { checkConfigCommand } from './check-config'
import { dashboardCommand } from './dashboard'
import { dkimCommand } from './dkim'
import { linksCommand } from './links'
import { orgKeyCommand } from './org-key'
import { pluginCommand } from './plugin-new'
import { queueCommand } from './queue'
import { quarantineCommand } from './quarantine'
import { reportCommand } from './report'
import { sendCommand } from './send'
import { start } from './start'
import { statsCommand } from './stats'
import { trackCommand } from './track'
import { userCommand } from './users'

const USAGE = `usage: gateway <command>
  start                 run both instances (and Redis, demo mailbox) in the foreground
  check-config          validate the configuration and exit
  user add NAME [--may-send LIST]  add or update an outbound relay user (password on stdin)
  user may-send NAME LIST|default  what a user may send as (MAIL FROM and header From)
  user remove NAME      remove a user (and its scope)
  user list             list users and what each may send as
  stats [DAYS]          inbound vs outbound counters per day (default 7 days)
  report [--since 1h|24h|7d|30d|DATE] [--until T] [--node NAME] [--json|--csv]
                        capacity and filter ROI over a time range, summed over the gateway nodes
  dashboard             serve the web dashboard ([dashboard] listen) in the foreground, without the instances
  track [--message-id ID] [--from ADDR] [--to ADDR] [--client-ip IP] [--since T] [--until T] [--limit N] [--json]
                        each matching message's path through both instances, as a timeline
  links [--instance inbound|outbound] [--json]  delivery state per destination, failing first
  org-key rotate [--grace DURATION]  new signing key for X-Gateway-Org (list: the keys and their state)
  quarantine list       messages held by a check (show ID | release ID | delete ID)
  queue list            the delivery queue (flush [DOMAIN] | delete ID | hold DOMAIN | release DOMAIN | held; --instance inbound)
  dkim keygen DOMAIN    create a sender domain's DKIM key, print its DNS record (dkim show DOMAIN)
  send --to ADDRESS     send a test message (see "gateway send --help")
  plugin new NAME       start your own policy check: plugins/NAME/ with its unit test, <instance>/config/NAME.ini
                        [--instance inbound|outbound|both] [--hook rcpt|mail|data_post]`

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv
  switch (command) {
    case 'start':
      return start()
    case 'check-config':
      return checkConfigCommand()
    case 'user':
      return userCommand(args)
    case 'stats':
      return statsCommand(args)
    case 'report':
      return reportCommand(args)
    case 'dashboard':
      return dashboardCommand(args)
    case 'send':
      return sendCommand(args)
    case 'quarantine':
      return quarantineCommand(args)
    case 'dkim':
      return dkimCommand(args)
    case 'queue':
      return queueCommand(args)
    case 'track':
      return trackCommand(args)
    case 'links':
      return linksCommand(args)
    case 'org-key':
      return orgKeyCommand(args)
    case 'plugin':
      return pluginCommand(args)
    default:
      console.error(USAGE)
      return command === undefined || command === 'help' || command === '--help' ? 0 : 64
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`gateway: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  },
)
