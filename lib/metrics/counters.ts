// The gateway's traffic counters as prom-client counters in one registry: each
// counter increment (notifyCount) goes through the catalog to its metric and
// labels, and a metric that already holds its most label sets counts new ones
// under "other", so no series can grow without bound. Synchronous and cheap: it
// runs inside count(), on the mail path.

import { Counter, type Registry } from 'prom-client'

import { mapCount, METRIC, METRICS, overflowLabels, type Labels, type MetricDef } from './catalog'

interface Entry {
  readonly def: MetricDef
  readonly counter: Counter<string>
  /** Label sets seen so far (as a key), for the cap. */
  readonly seen: Set<string>
}

export class MetricCounters {
  private readonly entries = new Map<string, Entry>()

  constructor(registry: Registry) {
    for (const def of METRICS) {
      const counter = new Counter({ name: def.name, help: def.help, labelNames: [...def.labelNames], registers: [registry] })
      const entry: Entry = { def, counter, seen: new Set() }
      for (const labels of def.initial) this.inc(entry, labels, 0)
      this.entries.set(def.name, entry)
    }
  }

  /** One counter increment of the gateway (a Redis counter field and its amount). */
  count(field: string, by: number): void {
    const m = mapCount(field, by)
    if ('dropped' in m) {
      this.inc(this.entries.get(METRIC.dropped)!, { reason: m.dropped }, 1)
      return
    }
    const entry = this.entries.get(m.metric)
    if (entry) this.inc(entry, m.labels, by)
  }

  private inc(entry: Entry, labels: Labels, by: number): void {
    const max = entry.def.maxLabelSets
    let use = labels
    if (max !== undefined) {
      const key = labelKey(entry.def, labels)
      if (!entry.seen.has(key)) {
        // the overflow set itself is always allowed: it is the one the cap falls back to
        if (entry.seen.size >= max) use = overflowLabels(entry.def, labels)
        const used = labelKey(entry.def, use)
        if (!entry.seen.has(used)) entry.seen.add(used)
      }
    }
    entry.counter.inc({ ...use }, by)
  }
}

function labelKey(def: MetricDef, labels: Labels): string {
  return JSON.stringify(def.labelNames.map((n) => labels[n] ?? ''))
}
