// The gateway dashboard's script: fetches /api/summary for the chosen range every
// few seconds and fills in the page (numbers, uPlot charts, tables), without a
// page reload. Plain browser JavaScript, no build step; text only via textContent.
'use strict'

;(function () {
  const REFRESH_MS = 5000
  const COLORS = { in: '#2563eb', out: '#059669', bad: '#dc2626' }
  let range = ['1h', '24h', '30d'].includes(location.hash.slice(1)) ? location.hash.slice(1) : '1h'
  let timer = 0
  let seq = 0
  const charts = {}

  const $ = (sel) => document.querySelector(sel)
  const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`)
  const count = (n) => n.toLocaleString('en-US')

  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
    let v = n
    let u = 0
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024
      u++
    }
    return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`
  }

  /** A number into its element: shown for people, exact in data-value for scripts. */
  function show(id, value, format) {
    const el = byTestId(id)
    el.textContent = (format || count)(value)
    el.dataset.value = String(value)
    el.title = count(value)
  }

  function ago(iso, now) {
    if (!iso) return 'never'
    const s = Math.floor((now - Date.parse(iso)) / 1000)
    if (s < 1) return 'now'
    if (s < 60) return `${s}s ago`
    if (s < 3600) return `${Math.floor(s / 60)}m ago`
    if (s < 86400) return `${Math.floor(s / 3600)}h ago`
    return `${Math.floor(s / 86400)}d ago`
  }

  /** Replaces a table's rows: each row is a list of [text, className?]. */
  function fillTable(testId, rows, rowAttrs) {
    const table = byTestId(testId)
    const body = table.tBodies[0]
    body.replaceChildren(
      ...rows.map((cells, i) => {
        const tr = document.createElement('tr')
        Object.assign(tr.dataset, rowAttrs ? rowAttrs(i) : {})
        for (const [text, cls] of cells) {
          const td = document.createElement('td')
          td.textContent = String(text)
          if (cls) td.className = cls
          tr.append(td)
        }
        return tr
      }),
    )
    table.hidden = rows.length === 0
    document.querySelector(`.none[data-for="${testId}"]`).hidden = rows.length > 0
  }

  function chart(id, series, data, format) {
    const el = document.getElementById(id)
    const width = Math.max(200, el.clientWidth)
    if (charts[id]) {
      charts[id].setData(data)
      return
    }
    charts[id] = new uPlot(
      {
        width,
        height: el.clientHeight || 200,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { size: 60, values: (u, ticks) => ticks.map(format) }],
        series: [{}, ...series.map(([label, color]) => ({ label, stroke: color, fill: `${color}22`, width: 1.5, points: { show: false } }))],
      },
      data,
      el,
    )
  }

  function render(s) {
    const now = Date.parse(s.generated_at)
    $('#empty').hidden = !s.empty
    document.querySelectorAll('[data-field="range-label"]').forEach((el) => (el.textContent = s.range.label))
    document.querySelectorAll('[data-field="step"]').forEach((el) => (el.textContent = s.range.step))

    show('messages-in', s.messages.in)
    show('messages-out', s.messages.out)
    show('bytes-in', s.bytes.in, bytes)
    show('bytes-out', s.bytes.out, bytes)
    show('refused-in', s.traffic.inbound.messages_refused)
    show('refused-out', s.traffic.outbound.messages_refused)
    show('sessions-refused-in', s.traffic.inbound.sessions_refused)
    show('recipients-refused-in', s.traffic.inbound.recipients_refused)
    show('auth-failures', s.auth.failures)
    show('auth-lockouts', s.auth.lockouts)
    show('auth-successes', s.auth.successes)
    show('deliveries', s.delivery.inbound.deliveries + s.delivery.outbound.deliveries)
    show('deliveries-in', s.delivery.inbound.deliveries)
    show('deliveries-out', s.delivery.outbound.deliveries)
    show('deferrals', s.delivery.inbound.deferrals + s.delivery.outbound.deferrals)
    show('bounces', s.delivery.inbound.bounces + s.delivery.outbound.bounces)
    show('queue-waiting', s.waiting)
    show('spam-count', s.spam.spam)
    show('spam-scanned', s.spam.scanned)
    show('viruses', s.viruses)
    show('quarantined', s.quarantine.quarantined)

    const t = s.series.t
    chart('chart-messages', [['in', COLORS.in], ['out', COLORS.out], ['refused in', COLORS.bad]], [t, s.series.inbound_messages, s.series.outbound_messages, s.series.inbound_refused], (v) => count(v))
    chart('chart-bytes', [['in', COLORS.in], ['out', COLORS.out]], [t, s.series.inbound_bytes, s.series.outbound_bytes], bytes)

    fillTable('reject-table', s.reject_reasons.map((r) => [[r.instance], [r.check], [r.action], [count(r.count), 'num']]))
    fillTable('filter-table', s.filters.map((f) => [[f.instance], [f.check], [count(f.first), 'num'], [count(f.only), 'num'], [count(f.also), 'num'], [f.only === 0 ? 'never alone' : '', 'note']]))
    fillTable(
      'links-table',
      s.links.map((l) => [
        [l.instance],
        [l.destination],
        [l.state === 'failing' ? 'FAILING' : 'ok', l.state === 'failing' ? 'failing' : ''],
        [l.consecutiveFailures, 'num'],
        [l.lastSuccess ? ago(l.lastSuccess.at, now) : 'never'],
        [l.lastFailure ? `${ago(l.lastFailure.at, now)}: ${l.lastFailure.reply}` : '–', 'reply'],
        [l.waiting, 'num'],
        [l.tls === null ? '–' : l.tls ? 'yes' : 'no'],
      ]),
      (i) => ({ testid: 'link-row', destination: s.links[i].destination, instance: s.links[i].instance, state: s.links[i].state }),
    )

    const status = byTestId('status')
    status.className = 'status live'
    status.dataset.generated = s.generated_at
    status.dataset.range = s.range.name
    // since navigation start: what "loads in under a second" is measured by
    if (!status.dataset.firstRenderMs) status.dataset.firstRenderMs = String(Math.round(performance.now()))
    status.textContent = `live · ${s.nodes.length} node${s.nodes.length === 1 ? '' : 's'} · updated ${new Date(now).toLocaleTimeString()}`
  }

  async function refresh() {
    clearTimeout(timer)
    const mine = ++seq
    try {
      const res = await fetch(`/api/summary?range=${encodeURIComponent(range)}`, { cache: 'no-store', credentials: 'same-origin' })
      if (!res.ok) throw new Error(res.status === 401 ? 'the token is missing or wrong: open this page as /?token=SECRET' : `${res.status} ${(await res.text()).trim()}`)
      const summary = await res.json()
      if (mine === seq) render(summary)
    } catch (err) {
      if (mine === seq) {
        const status = byTestId('status')
        status.className = 'status error'
        status.textContent = `cannot refresh: ${err.message} (retrying)`
      }
    }
    if (mine === seq) timer = setTimeout(refresh, REFRESH_MS)
  }

  function choose(next) {
    range = next
    history.replaceState(null, '', `#${next}`)
    document.querySelectorAll('nav button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.range === next)))
    refresh()
  }

  document.querySelectorAll('nav button').forEach((b) => b.addEventListener('click', () => choose(b.dataset.range)))
  window.addEventListener('resize', () => {
    for (const [id, c] of Object.entries(charts)) {
      const el = document.getElementById(id)
      c.setSize({ width: Math.max(200, el.clientWidth), height: el.clientHeight || 200 })
    }
  })
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) refresh()
  })
  choose(range)
})()
