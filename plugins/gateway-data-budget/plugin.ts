// gateway-data-budget: what a burst of large messages may cost one Haraka process
// (the spool folder that keeps large messages out of memory is gateway-core's:
// lib/limits/message-spool.ts).
// - At MAIL with SIZE= and at DATA: a message is taken only while fewer than
//   max_concurrent_data transfers and max_inflight_bytes bytes are in flight in this
//   process; otherwise "451 4.3.2 System busy, try again later" (the sender retries).
//   Never after the 354: a transfer under way is not cut off (lib/limits/data-budget.ts).
// Decisions go through lib/policy (check "data-budget", results concurrent_data and
// inflight_bytes): reject and tempfail both answer the 451 (a busy server never
// refuses for good), monitor only logs and counts.

import { field } from '../../lib/config/schema'
import { DataBudget, declaredSize, type Refusal, type Transfer } from '../../lib/limits/data-budget'
import { definePlugin } from '../../lib/plugin/define'
import { tempfail, type Verdict } from '../../lib/plugin/verdict'
import { record } from '../../lib/policy/record'

const CHECK = 'data-budget'
const BUSY: Verdict = tempfail(451, '4.3.2', 'System busy, try again later')

const schema = {
  main: {
    /** DATA transfers one process receives at once; 0 = no limit. */
    max_concurrent_data: field.int({ default: 20, min: 0, max: 100_000 }),
    /** Bytes of the messages in flight in one process (declared SIZE or received so far); 0 = no limit. */
    max_inflight_bytes: field.int({ default: 128 * 1024 * 1024, min: 0 }),
    /** reject / tempfail: 451 4.3.2; monitor: log and count only. */
    action: field.oneOf(['reject', 'tempfail', 'monitor'] as const, { default: 'tempfail' }),
  },
}

export = definePlugin({
  name: 'gateway-data-budget',
  instances: ['inbound', 'outbound'],
  hooks: ['mail', 'data', 'disconnect'],
  config: schema,
  setup({ plugin, config }) {
    const { max_concurrent_data: maxTransfers, max_inflight_bytes: maxBytes, action } = config.main
    if (maxTransfers === 0 && maxBytes === 0) return { hooks: {} } // nothing to count

    // One budget per process: each Haraka worker (smtp.ini nodes) has its own.
    const budget = new DataBudget({ maxTransfers, maxBytes })
    const declared = new WeakMap<Haraka.Transaction, number>()
    const inFlight = new WeakMap<Haraka.Connection, Transfer>()

    const refused = (c: Haraka.Connection, r: Refusal): Verdict | undefined => {
      // not a property of the message: no X-Gateway-Checks mark
      record(plugin, c, { check: CHECK, result: r.result, action, detail: r.detail }, { marks: false })
      return action === 'monitor' ? undefined : BUSY
    }

    return {
      hooks: {
        mail(c, txn, [, params]) {
          const size = declaredSize(params)
          declared.set(txn, size)
          if (size === 0) return undefined
          const r = budget.check(size, { transfers: false })
          return r ? refused(c, r) : undefined
        },
        data(c, txn) {
          const size = declared.get(txn) ?? 0
          const transfer: Transfer = {
            bytes: () => Math.max(size, txn.data_bytes || 0),
            // Haraka replaces or drops the transaction on every way a message ends
            live: () => c.transaction === txn,
          }
          const r = budget.check(size)
          if (r) {
            const verdict = refused(c, r)
            if (verdict) return verdict // nothing held: the message never starts
            // monitor: the message goes ahead and counts like any other
          }
          budget.hold(transfer)
          inFlight.set(c, transfer)
          return undefined
        },
        disconnect(c) {
          const t = inFlight.get(c)
          if (t) budget.release(t)
        },
      },
    }
  },
})
