import { createServer as createHttpServer } from 'node:http'
import { createServer, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { probeRedis, queueAddress, redact } from './address.js'

describe('queueAddress', () => {
  it('shows the URL with its password replaced, and keeps the URL as given for the client', () => {
    const a = queueAddress('rediss://worker:p%40ss%2Fw0rd@redis.example:6380/2')
    expect(a.url).toBe('rediss://worker:p%40ss%2Fw0rd@redis.example:6380/2')
    expect(a.shown).toBe('rediss://worker:***@redis.example:6380/2')
    expect(a.password).toBe('p@ss/w0rd')
    expect(queueAddress('redis://127.0.0.1:6379').shown).toBe('redis://127.0.0.1:6379')
    expect(queueAddress('redis://:secret@h').shown).toBe('redis://:***@h')
  })

  it('gives commands to copy a placeholder that reads as one, the server as host:port, and the database', () => {
    const a = queueAddress('rediss://worker:p%40ss@redis.example:6380/2')
    expect([a.inCommand, a.server, a.db]).toEqual(['rediss://worker:PASSWORD@redis.example:6380/2', 'redis.example:6380', 2])
    const plain = queueAddress('redis://[::1]')
    expect([plain.inCommand, plain.server, plain.db]).toEqual(['redis://[::1]', '[::1]:6379', 0])
  })

  it('refuses what is not a Redis URL without repeating it (it may hold a password)', () => {
    for (const [url, says] of [
      ['http://u:secret@h:1', "the scheme is 'http:'"],
      ['redis://u:secret@', 'not a URL'],
      ['redis://u:secret@127.0.0.1:notaport', 'the port (after the host and its colon) is not a number from 0 to 65535'],
      ['redis://:secret@h:65536/1', 'the port (after the host and its colon) is not a number from 0 to 65535'],
      ['redis://u:secret', 'the port (after the host and its colon) is not a number from 0 to 65535'],
      ['redis://u:secret@h:1/not-a-db', 'the path after the host is not a database number'],
      ['u:secret@h:6379', 'no scheme; expected redis://'],
      ['localhost:6379', 'no scheme; expected redis://[user:password@]host[:port][/db], or rediss://… for TLS (redis:// before the host)'],
      ['redis://u:secret@h:1?db=3', 'the URL has a query or fragment (?…), which the queue does not read'],
    ] as const) {
      expect(() => queueAddress(url)).toThrow(says)
      try {
        queueAddress(url)
      } catch (err) {
        expect((err as Error).message).not.toContain('secret')
        expect((err as { code: string }).code).toBe('OUROBOROS_CONFIG')
      }
    }
  })

  it('redacts the password from any text, as given and as the URL encodes it', () => {
    const a = queueAddress('redis://:a%20b%2Fc@h')
    expect(redact('auth a b/c failed for redis://:a%20b%2Fc@h', a)).toBe('auth *** failed for redis://:***@h')
    expect(redact('no password here', queueAddress('redis://h'))).toBe('no password here')
  })
})

describe('probeRedis', () => {
  it('gives up when the time given is up on a server that accepts connections and never answers', { timeout: 20_000 }, async () => {
    const sockets: Socket[] = []
    const server = createServer((socket) => void sockets.push(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const started = Date.now()
    try {
      const err = await probeRedis(queueAddress(`redis://127.0.0.1:${port}`), 6000).catch((e: Error) => e)
      expect(String(err)).toMatch(/--queue: cannot use Redis at redis:\/\/127\.0\.0\.1:\d+: no answer within 6 s/)
      expect(Date.now() - started).toBeLessThan(9000)
      expect(sockets.length).toBeGreaterThan(0)
    } finally {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  })

  it('says at once that a server answering in another protocol (HTTP) is not Redis', async () => {
    const server = createHttpServer((_, res) => res.end('hello'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const started = Date.now()
    try {
      const err = await probeRedis(queueAddress(`redis://127.0.0.1:${port}`), 10_000).catch((e: Error) => e)
      expect(String(err)).toContain(`--queue: cannot use Redis at redis://127.0.0.1:${port}: the server there does not answer in Redis's protocol (an HTTP server: its replies begin with "H")`)
      expect(Date.now() - started).toBeLessThan(5000)
    } finally {
      server.close()
    }
  })
})
