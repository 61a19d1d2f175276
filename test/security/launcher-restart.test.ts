// `gateway start` supervises its instances: a crashed instance (kill -9) is
// restarted after a back-off while the other keeps serving, mail flows before
// and after, and an instance that keeps crashing (more than 3 restarts within a
// minute) makes the launcher give up: one clear line, everything stopped, exit 1.

import fs from 'node:fs'
import path from 'node:path'

import { describe, expect, inject, it, vi } from 'vitest'

import { SmtpClient } from '../../lib/smtp/client'
import { makeDeploymentRoot, sendMail, testMessage } from '../helpers/gateway'
import { deadScannerFiles, startGateway, trackLaunches } from '../helpers/launched'
import { addressBlock } from '../helpers/net'
import { waitForMatch } from '../helpers/wait'

const launched = trackLaunches()
const { roots } = launched

/** One message into the inbound instance; the end-of-DATA code and the marker to find it by. */
async function sendIn(host: string): Promise<{ code: number | undefined; marker: string }> {
  const { client } = await SmtpClient.connect({ host, port: 2525 })
  try {
    await client.ehlo()
    const m = testMessage({ from: 'a@sender.test', to: 'postmaster@example.com' })
    return { code: (await sendMail(client, { from: 'a@sender.test', to: ['postmaster@example.com'] }, m.text)).end?.code, marker: m.marker }
  } finally {
    await client.quit()
  }
}

/** Waits until the demo mailbox holds a message with `marker`. */
async function stored(root: string, marker: string): Promise<void> {
  const mailbox = path.join(root, 'var', 'mailbox')
  await vi.waitFor(
    () => {
      const files = fs.existsSync(mailbox) ? fs.readdirSync(mailbox) : []
      if (!files.some((f) => fs.readFileSync(path.join(mailbox, f), 'utf8').includes(marker))) throw new Error(`${marker} not in ${mailbox}`)
    },
    { timeout: 20_000, interval: 100 },
  )
}

const inboundPid = (root: string) => (JSON.parse(fs.readFileSync(path.join(root, 'var', 'run', 'gateway.json'), 'utf8')) as { instances: { inbound: { pid: number } } }).instances.inbound.pid

describe('gateway start restarts a crashed instance', () => {
  it('kill -9 of inbound: outbound keeps answering, inbound is back after the back-off, mail flows before and after; beyond the budget the launcher gives up', async () => {
    const block = addressBlock()
    const root = makeDeploymentRoot({
      'config/gateway.ini': `[internal]\nhosts[]=${block.ip(3)}:2526\n[demo]\nmailbox_listen=${block.ip(3)}:2526\nmailbox_dir=var/mailbox\n[dashboard]\nlisten=off\n`,
      ...(await deadScannerFiles()),
    })
    roots.push(root)
    const gw = await startGateway(launched, root, { REDIS_URL: inject('redisUrl'), GATEWAY_INBOUND_LISTEN: `${block.ip(1)}:2525`, GATEWAY_OUTBOUND_LISTEN: `${block.ip(2)}:2587` })
    const { exit } = gw
    const out = () => gw.output()
    const waitOut = (re: RegExp) => waitForMatch(out, re, { timeoutMs: 45_000, intervalMs: 100, where: 'launcher output' })
    const restarts = () => out().match(/gateway: inbound restarted \(pid \d+\) and listening again/g)?.length ?? 0

    const before = await sendIn(block.ip(1))
    expect(before.code).toBe(250)
    await stored(root, before.marker)

    const first = inboundPid(root)
    process.kill(first, 'SIGKILL')
    // the healthy instance is not touched
    const { client: out1, greeting } = await SmtpClient.connect({ host: block.ip(2), port: 2587 })
    expect(greeting.code).toBe(220)
    expect((await out1.ehlo()).reply.code).toBe(250)
    await out1.quit()
    await waitOut(/gateway: inbound exited unexpectedly \(code 137\); restarting it in 1 s \(restart 1 of at most 3 per minute\); outbound keeps running/)
    await waitOut(/gateway: inbound restarted \(pid \d+\) and listening again/)
    expect(inboundPid(root)).not.toBe(first)
    const after = await sendIn(block.ip(1))
    expect(after.code).toBe(250)
    await stored(root, after.marker)

    // keeps crashing: restarts 2 and 3, then the fourth crash within the minute ends it
    for (let n = 2; n <= 4; n++) {
      process.kill(inboundPid(root), 'SIGKILL')
      if (n === 4) break
      await vi.waitFor(() => expect(restarts()).toBe(n), { timeout: 45_000, interval: 100 })
    }
    expect(await exit).toBe(1)
    expect(out()).toMatch(/gateway: inbound exited unexpectedly \(code 137\) 4 times within 60 s: giving up; stopping the gateway/)
    expect(fs.existsSync(path.join(root, 'var', 'run', 'gateway.json'))).toBe(false)
    await expect(SmtpClient.connect({ host: block.ip(2), port: 2587 })).rejects.toThrow(/ECONNREFUSED/)
  }, 90_000)
})
