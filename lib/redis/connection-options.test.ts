// Unit tests for the gateway's Redis URL forms and the ioredis options they become.
import { describe, expect, it } from 'vitest'

import { connectionPlan, describeTarget, effectivePrefix, parseRedisUrl, redactRedisUrl, usesTls, type ClientBehaviour } from './connection-options'

const behaviour: ClientBehaviour = { connectTimeoutMs: 2000, failFast: true, reconnect: true, lazyConnect: false, maxRetriesPerRequest: 1 }

describe('parseRedisUrl', () => {
  it('keeps a one-server URL as it is', () => {
    expect(parseRedisUrl('redis://:pw@127.0.0.1:6379/2')).toEqual({ kind: 'server', url: 'redis://:pw@127.0.0.1:6379/2' })
    expect(parseRedisUrl('rediss://redis.example:6380')).toEqual({ kind: 'server', url: 'rediss://redis.example:6380' })
  })

  it('reads sentinels (default port 26379), the master name, a database and credentials', () => {
    expect(parseRedisUrl('redis+sentinel://app:p%40ss@10.0.0.1:26380,sentinel2.example,[::1]:5000/mymaster/3')).toEqual({
      kind: 'sentinel',
      tls: false,
      sentinels: [
        { host: '10.0.0.1', port: 26380 },
        { host: 'sentinel2.example', port: 26379 },
        { host: '::1', port: 5000 },
      ],
      name: 'mymaster',
      db: 3,
      username: 'app',
      password: 'p@ss',
    })
    expect(parseRedisUrl('redis+sentinel://10.0.0.1/gw')).toMatchObject({ kind: 'sentinel', tls: false, name: 'gw', db: 0 })
    expect(parseRedisUrl('rediss+sentinel://10.0.0.1/gw')).toMatchObject({ kind: 'sentinel', tls: true, name: 'gw', db: 0 })
  })

  it('reads cluster nodes (default port 6379) and a password', () => {
    expect(parseRedisUrl('rediss+cluster://n1')).toMatchObject({ kind: 'cluster', tls: true })
    expect(parseRedisUrl('REDIS+CLUSTER://:secret@10.0.0.1:7000,10.0.0.2')).toEqual({
      kind: 'cluster',
      tls: false,
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 6379 },
      ],
      password: 'secret',
    })
  })

  it.each([
    ['http://x', 'is not a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL'],
    ['redis://', 'names no host'],
    ['redis+sentinel://:topsecret@10.0.0.1', 'give the master name the sentinels monitor'],
    ['redis+sentinel://10.0.0.1/bad name', 'contains white space'],
    ['redis+sentinel://10.0.0.1/m/x', 'only a database number may follow'],
    ['redis+sentinel://10.0.0.1,,10.0.0.2/m', 'give one or more host:port'],
    ['redis+cluster://10.0.0.1:70000', '70000'],
    ['redis+cluster://10.0.0.1/1', 'a cluster URL has no path'],
    ['rediss+redis://:topsecret@10.0.0.1', 'is not a redis://'],
    ['redis+cluster://:topsecret%zz@10.0.0.1', 'not valid URL encoding (write % as %25)'],
  ])('refuses %j: %s (without the password)', (url, problem) => {
    let message = ''
    try {
      parseRedisUrl(url)
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toContain(problem)
    expect(message).not.toContain('topsecret')
  })
})

describe('redactRedisUrl', () => {
  it('hides the password of every URL form, keeps the user name', () => {
    expect(redactRedisUrl('redis://:pw@127.0.0.1:6379')).toBe('redis://:***@127.0.0.1:6379')
    expect(redactRedisUrl('rediss://app:pw@h:1')).toBe('rediss://app:***@h:1')
    expect(redactRedisUrl('redis+sentinel://app:p@w@h1,h2/m')).toBe('redis+sentinel://app:***@h1,h2/m')
    expect(redactRedisUrl('redis+cluster://h1:7000,h2:7000')).toBe('redis+cluster://h1:7000,h2:7000')
  })
})

describe('effectivePrefix', () => {
  it('is a hash tag on a cluster only', () => {
    expect(effectivePrefix('gw', 'redis+cluster://h:7000')).toBe('{gw}')
    expect(effectivePrefix('gw', 'redis+sentinel://h/m')).toBe('gw')
    expect(effectivePrefix('gw', 'redis://h')).toBe('gw')
  })
})

describe('connectionPlan', () => {
  it('gives one server the URL and the behaviour', () => {
    const plan = connectionPlan('redis://h:1', behaviour)
    expect(plan.kind).toBe('server')
    if (plan.kind !== 'server') return
    expect(plan.url).toBe('redis://h:1')
    expect(plan.options).toMatchObject({ connectTimeout: 2000, enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false })
    expect(plan.options.retryStrategy?.(100)).toBe(5000)
  })

  it('gives a Sentinel client the sentinels, master, credentials, the sentinel password, and a reconnect on READONLY', () => {
    const plan = connectionPlan('redis+sentinel://:data-pw@s1:26379,s2:26380/mymaster/1', { ...behaviour, sentinelPassword: 'sentinel-pw' })
    expect(plan.kind).toBe('sentinel')
    if (plan.kind !== 'sentinel') return
    expect(plan.options).toMatchObject({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
      name: 'mymaster',
      db: 1,
      password: 'data-pw',
      sentinelPassword: 'sentinel-pw',
      failoverDetector: true,
    })
    const reconnectOnError = plan.options.reconnectOnError as (err: Error) => boolean
    expect(reconnectOnError(new Error("READONLY You can't write against a read only replica."))).toBe(true)
    expect(reconnectOnError(new Error('ERR other'))).toBe(false)
  })

  it('makes a one-shot client give up at once (no retries) on every kind of target', () => {
    const once = { ...behaviour, reconnect: false }
    const s = connectionPlan('redis+sentinel://s1/m', once)
    expect(s.kind === 'sentinel' && s.options.retryStrategy?.(1)).toBeNull()
    expect(s.kind === 'sentinel' && s.options.sentinelRetryStrategy?.(1)).toBeNull()
    const c = connectionPlan('redis+cluster://n1:7000', once)
    expect(c.kind === 'cluster' && c.options.clusterRetryStrategy?.(1)).toBeNull()
  })

  it('gives a Cluster client the nodes, and the credentials for every node', () => {
    const plan = connectionPlan('redis+cluster://:pw@n1:7000,n2:7001', behaviour)
    expect(plan.kind).toBe('cluster')
    if (plan.kind !== 'cluster') return
    expect(plan.nodes).toEqual([
      { host: 'n1', port: 7000 },
      { host: 'n2', port: 7001 },
    ])
    expect(plan.options).toMatchObject({ enableOfflineQueue: false, lazyConnect: false, redisOptions: { password: 'pw', connectTimeout: 2000, maxRetriesPerRequest: 1 } })
  })
})

describe('connectionPlan over TLS', () => {
  const material = { ca: 'CA-PEM', cert: 'CERT-PEM', key: 'KEY-PEM' }

  it('gives rediss:// the CA and client certificate, and redis:// no TLS even when they are configured', () => {
    const tls = connectionPlan('rediss://h:6380', { ...behaviour, tls: material })
    expect(tls.kind === 'server' && tls.options.tls).toEqual(material)
    // rediss:// alone: Node's defaults (the system's CAs)
    const system = connectionPlan('rediss://h:6380', behaviour)
    expect(system.kind === 'server' && system.options.tls).toEqual({})
    const plain = connectionPlan('redis://h:6379', { ...behaviour, tls: material })
    expect(plain.kind === 'server' && plain.options.tls).toBeUndefined()
  })

  it('uses TLS to the sentinels and to the master and replicas they name', () => {
    const plan = connectionPlan('rediss+sentinel://s1/m', { ...behaviour, tls: material })
    expect(plan.kind === 'sentinel' && plan.options).toMatchObject({ sentinelTLS: material, tls: material, enableTLSForSentinelMode: true })
    const plain = connectionPlan('redis+sentinel://s1/m', { ...behaviour, tls: material })
    expect(plain.kind === 'sentinel' && [plain.options.tls, plain.options.sentinelTLS, plain.options.enableTLSForSentinelMode]).toEqual([undefined, undefined, undefined])
  })

  it('uses TLS to every cluster node', () => {
    const plan = connectionPlan('rediss+cluster://:pw@n1:7000', { ...behaviour, tls: material })
    expect(plan.kind === 'cluster' && plan.options.redisOptions).toMatchObject({ tls: material, password: 'pw' })
    const plain = connectionPlan('redis+cluster://n1:7000', { ...behaviour, tls: material })
    expect(plain.kind === 'cluster' && plain.options.redisOptions?.tls).toBeUndefined()
  })

  it('says TLS in the description of a Sentinel or Cluster target', () => {
    expect(usesTls('rediss://h')).toBe(true)
    expect(usesTls('REDISS+CLUSTER://h')).toBe(true)
    expect(usesTls('redis+sentinel://h/m')).toBe(false)
    expect(describeTarget('rediss+sentinel://s1/m')).toBe('master "m" of sentinels s1:26379 (TLS)')
    expect(describeTarget('rediss+cluster://n1')).toBe('cluster at n1:6379 (TLS)')
  })
})

describe('describeTarget', () => {
  it('says where without the password', () => {
    expect(describeTarget('redis://:pw@h:1')).toBe('redis://:***@h:1')
    expect(describeTarget('redis+sentinel://:pw@s1,s2:1/mymaster')).toBe('master "mymaster" of sentinels s1:26379,s2:1')
    expect(describeTarget('redis+cluster://:pw@n1:7000')).toBe('cluster at n1:7000')
  })
})
