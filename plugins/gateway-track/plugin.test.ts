// Unit test of gateway-track through the real adapter, without Haraka: its hooks
// only observe (every answer is CONT), and what lands in Redis (the suite's real
// redis-server) is the record and events of what happened: an accepted message
// with its checks, a refusal without the client's secrets, a queue item's
// delivery on the record its notes name.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import * as constants from 'haraka-constants'
import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'

import { loadGatewayConfig } from '../../lib/config/gateway'
import { fakeConnection, fakeQueuedMail, fakeTransaction, pluginHarness, type Harness } from '../../lib/plugin/testing'
import { noteDecision } from '../../lib/policy/marks'
import { RedisKeys } from '../../lib/redis/keys'
import { TRACKING } from '../../lib/tracking/notes'
import { parseRecord } from '../../lib/tracking/record'
import { sharedConfigForFile } from '../../test/helpers/shared-config'
import plugin from './plugin'

const PREFIX = `trackunit${process.pid}`
const keys = new RedisKeys(PREFIX)
const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'track-log-')), 'events.jsonl')
const shared = sharedConfigForFile(`[node]\nname=unit1\n[internal]\nhosts[]=127.0.0.1:2526\n[redis]\nprefix=${PREFIX}\n[tracking]\nevent_log=${logFile}\n`)

let h: Harness
let redis: Redis

beforeAll(() => {
  redis = new Redis(inject('redisUrl'))
  h = pluginHarness(plugin, { instance: 'inbound', gateway: loadGatewayConfig(shared) })
})

afterAll(async () => {
  await h.shutdown()
  redis.disconnect()
})

const readRecord = async (id: string) => parseRecord(id, await redis.get(keys.record(id)))
const eventTypes = async (id: string) => {
  const ids = await redis.lrange(keys.recordEvents(id), 0, -1)
  const out: string[] = []
  for (const sid of ids) {
    const [entry] = await redis.xrange(keys.events(), sid, sid)
    out.push((JSON.parse(entry![1][1]!) as { type: string }).type)
  }
  return out
}

describe('gateway-track', () => {
  it('records an accepted message with its checks, and its delivery on the same record', async () => {
    const c = fakeConnection({ ip: '203.0.113.7', helo: 'mx.sender.test' })
    const txn = fakeTransaction(c, { from: 'alice@sender.test', to: ['bob@example.com'], headers: ['Message-ID: <u1@sender.test>'], body: 'hello' })
    noteDecision(c, { check: 'spf', result: 'pass', action: 'accept' })
    expect(await h.run('pre_send_trans_email', { transaction: txn }, txn)).toEqual({ result: 'CONT' })
    expect(await h.run('queue_ok', c, 'queued')).toEqual({ result: 'CONT' })
    const hmail = fakeQueuedMail({ domain: 'example.com', to: ['bob@example.com'] })
    ;(hmail.todo as { uuid?: string }).uuid = `${txn.uuid}.1`
    hmail.todo.notes = { [TRACKING.name]: TRACKING.get(txn) }
    expect(await h.run('delivered', hmail, ['10.0.0.5', '10.0.0.5', 'ok', 0.1, 25, 'SMTP', [], true, false])).toEqual({ result: 'CONT' })

    await vi.waitFor(async () => expect(await eventTypes(txn.uuid)).toEqual(['RECEIVE', 'QUEUE', 'DELIVER']), { timeout: 5000 })
    const r = await readRecord(txn.uuid)
    expect(r).toMatchObject({
      kind: 'ok',
      record: { node: 'unit1', instance: 'inbound', status: 'accepted', from: 'alice@sender.test', to: ['bob@example.com'], messageId: '<u1@sender.test>', client: { ip: '203.0.113.7', helo: 'mx.sender.test' } },
    })
    expect(r.kind === 'ok' && r.record.checks).toEqual([{ check: 'spf', result: 'pass', action: 'accept' }])
    expect(await redis.zscore(keys.recordsByClientIp('203.0.113.7'), txn.uuid)).not.toBeNull()
    const lines = fs.readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; recordId: string })
    expect(lines.filter((l) => l.recordId === txn.uuid).map((l) => l.type)).toEqual(['RECEIVE', 'QUEUE', 'DELIVER'])
  })

  it('records a refusal without what the client sent', async () => {
    const c = fakeConnection({ ip: '203.0.113.8' })
    const secret = Buffer.from('\0user\0hunter2-password').toString('base64')
    expect(await h.run('deny', c, [constants.deny, '5.7.8 Authentication failed', 'gateway-submission-auth', 'hook_unrecognized_command', [`AUTH PLAIN ${secret}`], 'unrecognized_command'])).toEqual({ result: 'CONT' })
    await vi.waitFor(async () => expect(await redis.get(keys.record(c.uuid))).not.toBeNull(), { timeout: 5000 })
    const raw = (await redis.get(keys.record(c.uuid)))!
    expect(raw).not.toContain(secret)
    expect(raw).not.toContain('hunter2')
    expect(await readRecord(c.uuid)).toMatchObject({ kind: 'ok', record: { status: 'rejected', action: 'reject', reply: '550 5.7.8 Authentication failed', from: null, to: [] } })
    expect(await eventTypes(c.uuid)).toEqual(['REJECT'])
  })
})
