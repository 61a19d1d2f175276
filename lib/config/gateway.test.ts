// Unit tests for loadGatewayConfig: gateway.ini + accepted_domains from a temporary directory.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { configError } from '../../test/helpers/config-errors'
import { TestCa } from '../../test/helpers/test-ca'
import { ConfigError } from './errors'
import { loadGatewayConfig } from './gateway'

/** The environment variables that override gateway.ini. */
const ENV_VARS = [
  'GATEWAY_INTERNAL_HOSTS',
  'GATEWAY_INBOUND_LISTEN',
  'GATEWAY_OUTBOUND_LISTEN',
  'REDIS_URL',
  'GATEWAY_DNS_SERVERS',
  'GATEWAY_REDIS_PREFIX',
  'GATEWAY_DEMO_MAILBOX',
  'GATEWAY_NODE_NAME',
  'GATEWAY_EVENT_LOG',
  'GATEWAY_ORG_KEY_FILE',
  'GATEWAY_REDIS_SENTINEL_PASSWORD_FILE',
  'GATEWAY_ROOT',
]

let dir: string

function write(name: string, text: string): void {
  fs.writeFileSync(path.join(dir, name), text)
}


beforeEach(() => {
  for (const name of ENV_VARS) vi.stubEnv(name, undefined)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-config-'))
})

afterEach(() => {
  vi.unstubAllEnvs()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('loadGatewayConfig', () => {
  it('loads a valid configuration, with defaults for what is not set', () => {
    write('gateway.ini', '[internal]\nhosts[]=mail.internal.example\nhosts[]=10.0.0.2:2525\n\n[redis]\nprefix=test1\n')
    write('accepted_domains', '# ours\nExample.COM\nexample.org\n')
    const cfg = loadGatewayConfig(dir)
    expect(cfg.dir).toBe(dir)
    expect(cfg.settings.internal.hosts).toEqual([
      { host: 'mail.internal.example', port: 25 },
      { host: '10.0.0.2', port: 2525 },
    ])
    expect(cfg.settings.inbound.listen).toEqual([{ host: '127.0.0.1', port: 2525 }])
    expect(cfg.settings.outbound.listen).toEqual([{ host: '127.0.0.1', port: 2587 }])
    expect(cfg.settings.redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      sentinel_password_file: '',
      tls_ca_file: '',
      tls_cert_file: '',
      tls_key_file: '',
      prefix: 'test1',
      connect_timeout_ms: 2000,
      stats_ttl_days: 400,
    })
    expect(cfg.settings.dns.servers).toEqual([])
    expect(cfg.settings.demo).toEqual({ mailbox_listen: null, mailbox_dir: 'var/mailbox' })
    // domains are lower-cased
    expect([...cfg.acceptedDomains]).toEqual(['example.com', 'example.org'])
    expect(Object.isFrozen(cfg)).toBe(true)
    expect(Object.isFrozen(cfg.settings)).toBe(true)
  })

  it('reads node, tracking, org and links settings, durations in seconds, with defaults', () => {
    write('gateway.ini', '[internal]\nhosts[]=10.0.0.2\n[node]\nname=gw-2.dc1\n[tracking]\nrecord_ttl=2d\nevent_log=off\n[org]\nmax_age=12h\n[links]\nprobe_interval=0s\n')
    write('accepted_domains', 'example.com\n')
    const { settings } = loadGatewayConfig(dir)
    expect(settings.node.name).toBe('gw-2.dc1')
    expect(settings.tracking).toEqual({ record_ttl: 172_800, stream_max_events: 1_000_000, stream_max_age: 2_592_000, event_log: 'off', buffer_max_units: 100_000 })
    expect(settings.org).toEqual({ key_file: 'var/org-keys.json', key_grace: 604_800, max_age: 43_200 })
    expect(settings.links.probe_interval).toBe(0)
  })

  it('names file, line and key for a bad duration or node name', () => {
    write('accepted_domains', 'example.com\n')
    write('gateway.ini', '[internal]\nhosts[]=10.0.0.2\n[tracking]\nrecord_ttl=30\n')
    expect(configError(() => loadGatewayConfig(dir)).message).toMatch(/gateway\.ini:4.*\[tracking\] record_ttl.*"30" is not a duration/)
    write('gateway.ini', '[internal]\nhosts[]=10.0.0.2\n[node]\nname=gw 1\n')
    expect(configError(() => loadGatewayConfig(dir)).message).toMatch(/\[node\] name.*"gw 1" is not letters, digits/)
  })

  it('uses default ports per listener', () => {
    write('gateway.ini', '[inbound]\nlisten=0.0.0.0\n[outbound]\nlisten=[::]\n[internal]\nhosts=mx.example\n[dns]\nservers=9.9.9.9\n')
    write('accepted_domains', 'example.com\n')
    const { settings } = loadGatewayConfig(dir)
    expect(settings.inbound.listen).toEqual([{ host: '0.0.0.0', port: 25 }])
    expect(settings.outbound.listen).toEqual([{ host: '::', port: 587 }])
    expect(settings.internal.hosts).toEqual([{ host: 'mx.example', port: 25 }])
    expect(settings.dns.servers).toEqual([{ host: '9.9.9.9', port: 53 }])
  })

  it('lets environment variables override the file', () => {
    write('gateway.ini', '[internal]\nhosts[]=file.example\n[redis]\nprefix=fromfile\nurl=redis://file:6379\n')
    write('accepted_domains', 'example.com\n')
    vi.stubEnv('GATEWAY_INTERNAL_HOSTS', 'a.example:2525,b.example')
    vi.stubEnv('GATEWAY_INBOUND_LISTEN', '127.0.0.2:2526')
    vi.stubEnv('GATEWAY_OUTBOUND_LISTEN', '127.0.0.3')
    vi.stubEnv('REDIS_URL', 'rediss://env:6380')
    vi.stubEnv('GATEWAY_DNS_SERVERS', '1.1.1.1')
    vi.stubEnv('GATEWAY_REDIS_PREFIX', 'fromenv')
    const { settings } = loadGatewayConfig(dir)
    expect(settings.internal.hosts).toEqual([
      { host: 'a.example', port: 2525 },
      { host: 'b.example', port: 25 },
    ])
    expect(settings.inbound.listen).toEqual([{ host: '127.0.0.2', port: 2526 }])
    expect(settings.outbound.listen).toEqual([{ host: '127.0.0.3', port: 587 }])
    expect(settings.redis.url).toBe('rediss://env:6380')
    expect(settings.redis.prefix).toBe('fromenv')
    expect(settings.dns.servers).toEqual([{ host: '1.1.1.1', port: 53 }])
  })

  it('needs internal hosts: a missing key is a ConfigError about "[internal] hosts"', () => {
    write('gateway.ini', '[redis]\nprefix=x\n')
    write('accepted_domains', 'example.com\n')
    const err = configError(() => loadGatewayConfig(dir))
    expect(err.key).toBe('[internal] hosts')
    expect(err.message).toContain('[internal] hosts')
    expect(err.message).toContain('GATEWAY_INTERNAL_HOSTS')
  })

  it('needs internal hosts: a missing gateway.ini is the same error', () => {
    write('accepted_domains', 'example.com\n')
    expect(configError(() => loadGatewayConfig(dir)).message).toContain('[internal] hosts')
  })

  it('needs internal hosts: an empty list is a ConfigError about "[internal] hosts"', () => {
    write('gateway.ini', '[internal]\nhosts[]=\n')
    write('accepted_domains', 'example.com\n')
    const err = configError(() => loadGatewayConfig(dir))
    expect(err.key).toBe('[internal] hosts')
    expect(err.problem).toBe('no internal mail server configured (set hosts[]= or GATEWAY_INTERNAL_HOSTS)')
    expect(err.message).toBe(
      `${path.join(dir, 'gateway.ini')}: [internal] hosts: no internal mail server configured (set hosts[]= or GATEWAY_INTERNAL_HOSTS)`,
    )
  })

  it('reports an invalid environment value naming the variable', () => {
    write('gateway.ini', '[internal]\nhosts[]=mx.example\n')
    write('accepted_domains', 'example.com\n')
    vi.stubEnv('REDIS_URL', 'http://nope')
    expect(configError(() => loadGatewayConfig(dir)).message).toBe(
      'environment variable REDIS_URL: "http://nope" is not a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL (rediss+sentinel://, rediss+cluster:// with TLS)',
    )
  })

  describe('[redis] TLS files', () => {
    let ca: TestCa
    beforeEach(() => {
      ca = new TestCa()
      vi.stubEnv('GATEWAY_ROOT', dir)
      const pair = ca.issue('gateway-client')
      const other = ca.issue('someone-else')
      fs.mkdirSync(path.join(dir, 'tls'))
      fs.writeFileSync(path.join(dir, 'tls', 'ca.pem'), ca.cert)
      fs.writeFileSync(path.join(dir, 'tls', 'client.pem'), pair.cert)
      fs.writeFileSync(path.join(dir, 'tls', 'client.key'), pair.key, { mode: 0o600 })
      fs.writeFileSync(path.join(dir, 'tls', 'other.key'), other.key, { mode: 0o600 })
      fs.writeFileSync(path.join(dir, 'tls', 'garbage.pem'), 'not a certificate\n')
    })
    afterEach(() => ca.remove())
    const ini = (url: string, keys: string) => {
      write('gateway.ini', `[internal]\nhosts[]=mx.example\n[redis]\nurl=${url}\n${keys}`)
      write('accepted_domains', 'example.com\n')
    }
    const problem = () => {
      const err = configError(() => loadGatewayConfig(dir))
      return `${err.where} ${err.key}: ${err.problem}`
    }

    it('reads the CA and a client certificate under the deployment root for a TLS URL', () => {
      ini('rediss+sentinel://10.0.0.1/mymaster', 'tls_ca_file=tls/ca.pem\ntls_cert_file=tls/client.pem\ntls_key_file=tls/client.key\n')
      expect(loadGatewayConfig(dir).settings.redis).toMatchObject({
        tls_ca_file: path.join(dir, 'tls', 'ca.pem'),
        tls_cert_file: path.join(dir, 'tls', 'client.pem'),
        tls_key_file: path.join(dir, 'tls', 'client.key'),
      })
    })

    it('refuses TLS files with a URL that does not use TLS (the connection would not be encrypted)', () => {
      ini('redis+cluster://10.0.0.1', 'tls_ca_file=tls/ca.pem\n')
      expect(problem()).toMatch(/gateway\.ini \[redis\] url: tls_ca_file is set, but the URL does not use TLS: write rediss:\/\//)
      vi.stubEnv('REDIS_URL', 'redis://10.0.0.1')
      ini('rediss://10.0.0.1', 'tls_ca_file=tls/ca.pem\n')
      expect(problem()).toMatch(/^environment variable REDIS_URL : tls_ca_file is set, but the URL does not use TLS/)
    })

    it('refuses a missing or unparseable file, a certificate without its key, and the wrong key, without showing a key', () => {
      ini('rediss://10.0.0.1', 'tls_ca_file=tls/missing.pem\n')
      expect(problem()).toMatch(/:5 \[redis\] tls_ca_file: cannot read .*tls\/missing\.pem: ENOENT$/)
      ini('rediss://10.0.0.1', 'tls_ca_file=tls/garbage.pem\n')
      expect(problem()).toMatch(/\[redis\] tls_ca_file: .*tls\/garbage\.pem holds no PEM certificate/)
      ini('rediss://10.0.0.1', 'tls_key_file=tls/ca.pem\n')
      expect(problem()).toMatch(/\[redis\] tls_key_file: .*tls\/ca\.pem holds no PEM private key/)
      ini('rediss://10.0.0.1', 'tls_cert_file=tls/client.pem\n')
      expect(problem()).toMatch(/\[redis\] tls_key_file: a client certificate needs both tls_cert_file and tls_key_file$/)
      ini('rediss://10.0.0.1', 'tls_cert_file=tls/client.pem\ntls_key_file=tls/other.key\n')
      const wrongKey = problem()
      expect(wrongKey).toMatch(/\[redis\] tls_key_file: .*tls\/other\.key is not the private key of the certificate in tls_cert_file \(.*mismatch/)
      const keyBody = fs.readFileSync(path.join(dir, 'tls', 'other.key'), 'utf8').split('\n')[1]!
      expect(wrongKey).not.toContain(keyBody)
    })
  })

  describe('[redis] Sentinel and Cluster', () => {
    beforeEach(() => write('accepted_domains', 'example.com\n'))

    it('accepts a Sentinel URL and keeps the prefix as written', () => {
      write('gateway.ini', '[internal]\nhosts[]=mx.example\n[redis]\nurl=redis+sentinel://:secret@10.0.0.1:26379,10.0.0.2/mymaster\nprefix=gw\n')
      const { redis } = loadGatewayConfig(dir).settings
      expect(redis.url).toBe('redis+sentinel://:secret@10.0.0.1:26379,10.0.0.2/mymaster')
      expect(redis.prefix).toBe('gw')
    })

    it('makes the prefix a hash tag on a cluster (from the file or REDIS_URL, with GATEWAY_REDIS_PREFIX too)', () => {
      write('gateway.ini', '[internal]\nhosts[]=mx.example\n[redis]\nurl=redis+cluster://10.0.0.1:7000,10.0.0.2:7000\nprefix=gw\n')
      expect(loadGatewayConfig(dir).settings.redis.prefix).toBe('{gw}')
      write('gateway.ini', '[internal]\nhosts[]=mx.example\n')
      vi.stubEnv('REDIS_URL', 'redis+cluster://10.0.0.1')
      vi.stubEnv('GATEWAY_REDIS_PREFIX', 'site2')
      expect(loadGatewayConfig(dir).settings.redis.prefix).toBe('{site2}')
    })

    it('stops on a Sentinel URL without a master name, naming file, line and key, without the password', () => {
      write('gateway.ini', '[internal]\nhosts[]=mx.example\n[redis]\nurl=redis+sentinel://:hunter2-secret@10.0.0.1:26379\n')
      const err = configError(() => loadGatewayConfig(dir))
      expect(err.message).toMatch(new RegExp(`^${path.join(dir, 'gateway.ini')}:4: \\[redis\\] url: "redis\\+sentinel://:\\*\\*\\*@10\\.0\\.0\\.1:26379": give the master name`))
      expect(err.message).not.toContain('hunter2')
    })

    it('stops on a cluster node that is not host:port', () => {
      write('gateway.ini', '[internal]\nhosts[]=mx.example\n[redis]\nurl=redis+cluster://10.0.0.1:7000,10.0.0.2:99999\n')
      expect(configError(() => loadGatewayConfig(dir)).message).toMatch(/:4: \[redis\] url: "redis\+cluster:\/\/10\.0\.0\.1:7000,10\.0\.0\.2:99999": .*99999/)
    })

    it('reads sentinel_password_file under the deployment root; a missing or empty file stops startup naming the key, never a password', () => {
      vi.stubEnv('GATEWAY_ROOT', dir)
      fs.mkdirSync(path.join(dir, 'secrets'))
      fs.writeFileSync(path.join(dir, 'secrets', 'sentinel'), 'sentinel-secret\n', { mode: 0o600 })
      write('gateway.ini', '[internal]\nhosts[]=mx.example\n[redis]\nurl=redis+sentinel://10.0.0.1/mymaster\nsentinel_password_file=secrets/sentinel\n')
      expect(loadGatewayConfig(dir).settings.redis.sentinel_password_file).toBe(path.join(dir, 'secrets', 'sentinel'))

      write('gateway.ini', '[internal]\nhosts[]=mx.example\n[redis]\nsentinel_password_file=secrets/missing\n')
      expect(configError(() => loadGatewayConfig(dir)).message).toMatch(/:4: \[redis\] sentinel_password_file: cannot read .*secrets\/missing: ENOENT$/)

      fs.writeFileSync(path.join(dir, 'secrets', 'empty'), '\n')
      vi.stubEnv('GATEWAY_REDIS_SENTINEL_PASSWORD_FILE', 'secrets/empty')
      const err = configError(() => loadGatewayConfig(dir))
      expect(err.where).toBe('environment variable GATEWAY_REDIS_SENTINEL_PASSWORD_FILE')
      expect(err.problem).toMatch(/secrets\/empty is empty/)
    })
  })

  it('reports a bad line in gateway.ini with its file and line', () => {
    write('gateway.ini', '[internal]\nhosts[]=mx.example\n[redis]\nstats_ttl_days=0\n')
    write('accepted_domains', 'example.com\n')
    expect(configError(() => loadGatewayConfig(dir)).message).toBe(
      `${path.join(dir, 'gateway.ini')}:4: [redis] stats_ttl_days: 0 is below the minimum 1`,
    )
  })

  it('rejects a line of accepted_domains that is not a domain, naming file, line and value', () => {
    write('gateway.ini', '[internal]\nhosts[]=mx.example\n')
    write('accepted_domains', 'example.com\n\nnot a domain\n')
    const err = configError(() => loadGatewayConfig(dir))
    expect(err.where).toBe(`${path.join(dir, 'accepted_domains')}:3`)
    expect(err.key).toBe('not a domain')
    expect(err.problem).toBe('is not a domain name')
  })

  it.each(['localhost', 'example.com.', '-bad.example', 'exa_mple.com', '*.example.com', '1.2.3.4/8'])(
    'rejects %j as an accepted domain',
    (domain) => {
      write('gateway.ini', '[internal]\nhosts[]=mx.example\n')
      write('accepted_domains', `${domain}\n`)
      expect(configError(() => loadGatewayConfig(dir)).problem).toBe('is not a domain name')
    },
  )

  it('rejects an accepted_domains file with only comments', () => {
    write('gateway.ini', '[internal]\nhosts[]=mx.example\n')
    write('accepted_domains', '# nothing yet\n\n')
    const err = configError(() => loadGatewayConfig(dir))
    expect(err.message).toBe(
      `${path.join(dir, 'accepted_domains')}: lists no accepted domain: the inbound instance would refuse all mail`,
    )
  })

  it('rejects a missing accepted_domains file the same way', () => {
    write('gateway.ini', '[internal]\nhosts[]=mx.example\n')
    expect(configError(() => loadGatewayConfig(dir)).problem).toBe(
      'lists no accepted domain: the inbound instance would refuse all mail',
    )
  })

  describe('the demo mailbox (GATEWAY_DEMO_MAILBOX)', () => {
    // as shipped: the internal host is the demo mailbox
    const shipped = '[internal]\nhosts[]=127.0.0.1:2526\nhosts[]=10.0.0.2\n[demo]\nmailbox_listen=127.0.0.1:2526\n'

    beforeEach(() => write('accepted_domains', 'example.com\n'))

    it('moves the mailbox, and the internal host that named its old address follows it (the others stay)', () => {
      write('gateway.ini', shipped)
      vi.stubEnv('GATEWAY_DEMO_MAILBOX', '127.0.0.9:3526')
      const { settings } = loadGatewayConfig(dir)
      expect(settings.demo.mailbox_listen).toEqual({ host: '127.0.0.9', port: 3526 })
      expect(settings.internal.hosts).toEqual([
        { host: '127.0.0.9', port: 3526 },
        { host: '10.0.0.2', port: 25 },
      ])
      expect(Object.isFrozen(settings.internal.hosts)).toBe(true)
    })

    it('leaves internal hosts alone when GATEWAY_INTERNAL_HOSTS names them', () => {
      write('gateway.ini', shipped)
      vi.stubEnv('GATEWAY_DEMO_MAILBOX', '127.0.0.9:3526')
      vi.stubEnv('GATEWAY_INTERNAL_HOSTS', '127.0.0.1:2526')
      expect(loadGatewayConfig(dir).settings.internal.hosts).toEqual([{ host: '127.0.0.1', port: 2526 }])
    })

    it('off: no demo mailbox, allowed when the internal hosts do not name its address', () => {
      write('gateway.ini', '[internal]\nhosts[]=mail.example\n[demo]\nmailbox_listen=127.0.0.1:2526\n')
      vi.stubEnv('GATEWAY_DEMO_MAILBOX', 'off')
      const { settings } = loadGatewayConfig(dir)
      expect(settings.demo.mailbox_listen).toBeNull()
      expect(settings.internal.hosts).toEqual([{ host: 'mail.example', port: 25 }])
    })

    it('off, while an internal host still names the demo address: refused, naming the variable', () => {
      write('gateway.ini', shipped)
      vi.stubEnv('GATEWAY_DEMO_MAILBOX', 'off')
      expect(configError(() => loadGatewayConfig(dir)).message).toBe(
        `environment variable GATEWAY_DEMO_MAILBOX: "off" leaves [internal] hosts in ${path.join(dir, 'gateway.ini')} pointing at the demo mailbox address 127.0.0.1:2526, where no demo mailbox would run: set GATEWAY_INTERNAL_HOSTS to your mail server`,
      )
    })

    it.each([
      ['of', '"of" has no port (expected host:port or off)'],
      ['127.0.0.1:99999', '"127.0.0.1:99999" has an invalid port (expected host:port or off)'],
      ['127.0.0.1:2526,127.0.0.2:2526', '"127.0.0.1:2526,127.0.0.2:2526" is a list: give one host:port (or off)'],
    ])('rejects %j naming the variable', (value, problem) => {
      write('gateway.ini', shipped)
      vi.stubEnv('GATEWAY_DEMO_MAILBOX', value)
      expect(configError(() => loadGatewayConfig(dir)).message).toBe(`environment variable GATEWAY_DEMO_MAILBOX: ${problem}`)
    })

    it('an ini value of off is no mailbox too', () => {
      write('gateway.ini', '[internal]\nhosts[]=mail.example\n[demo]\nmailbox_listen=off\n')
      expect(loadGatewayConfig(dir).settings.demo.mailbox_listen).toBeNull()
    })
  })

  it('keeps accepted domains in a Set: prototype names are not accepted', () => {
    write('gateway.ini', '[internal]\nhosts[]=mx.example\n')
    write('accepted_domains', 'example.com\n')
    const { acceptedDomains } = loadGatewayConfig(dir)
    expect(acceptedDomains).toBeInstanceOf(Set)
    expect(acceptedDomains.has('example.com')).toBe(true)
    expect(acceptedDomains.has('constructor')).toBe(false)
    expect(acceptedDomains.has('__proto__')).toBe(false)
    expect(acceptedDomains.has('toString')).toBe(false)
    expect(acceptedDomains.has('hasOwnProperty')).toBe(false)
  })
})
