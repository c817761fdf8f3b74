import { Redis } from 'ioredis'
import { ErrorCode, OuroborosError, configError } from '@ouroboros/core'

/**
 * The one BullMQ queue every run on a Redis server shares: workers serve whichever runs are in it,
 * and each task names its run, so that runs neither collide nor take each other's results.
 */
export const QUEUE_NAME = 'ouroboros'

export interface QueueAddress {
  /** As given; the password in it goes to the Redis client and nowhere else. */
  readonly url: string
  /** The same with the password replaced by ***: what run.json, logs and messages show. */
  readonly shown: string
  /**
   * The same with the password replaced by PASSWORD, for commands printed for the user to copy:
   * `***` pasted as it stands fails with WRONGPASS, where PASSWORD reads as a blank to fill in.
   */
  readonly inCommand: string
  readonly password: string | undefined
  /** host:port, as messages name the server. */
  readonly server: string
  /** The database number the URL's path names (0 where it names none). */
  readonly db: number
  /** Where the URL was given (--queue, or an environment variable), as messages name it. */
  readonly option: string
}

const EXPECTED = 'expected redis://[user:password@]host[:port][/db], or rediss://… for TLS'

/** Checks a --queue URL; the error never repeats the URL, which may hold a password. */
export function queueAddress(url: string, option = '--queue'): QueueAddress {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw configError(`${option}: ${unparsable(url)}; ${EXPECTED}`)
  }
  // `localhost:6379` parses as the scheme 'localhost:' with the path '6379': the scheme was left out.
  if (!url.includes('://')) throw configError(`${option}: no scheme; ${EXPECTED} (redis:// before the host)`)
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw configError(`${option}: the scheme is '${parsed.protocol}'; ${EXPECTED}`)
  if (parsed.hostname === '') throw configError(`${option}: no host; ${EXPECTED}`)
  if (!/^\/?\d*$/.test(parsed.pathname)) throw configError(`${option}: the path after the host is not a database number; ${EXPECTED}`)
  if (parsed.search !== '' || parsed.hash !== '') throw configError(`${option}: the URL has a query or fragment (${parsed.search === '' ? '#…' : '?…'}), which the queue does not read; ${EXPECTED}`)
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password)
  const server = `${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}`
  const db = Number(parsed.pathname.slice(1) || '0')
  if (password === undefined) return { url, shown: parsed.href, inCommand: parsed.href, password, server, db, option }
  parsed.password = '***'
  const shown = parsed.href
  parsed.password = 'PASSWORD'
  return { url, shown, inCommand: parsed.href, password, server, db, option }
}

/**
 * Which part of a URL that does not parse is wrong, as far as it can be told: a port that is not
 * a number is the usual slip. The part itself is not repeated, since it may be a password.
 */
function unparsable(url: string): string {
  const port = /^[a-z]+:\/\/(?:[^/]*@)?(?:\[[^\]]*\]|[^:/@]*):([^/@]*)(?:\/|$)/i.exec(url)?.[1]
  if (port !== undefined && !(/^\d*$/.test(port) && Number(port) <= 65535)) return 'the port (after the host and its colon) is not a number from 0 to 65535'
  return 'not a URL'
}

/**
 * A command for the user to copy, given the queue: its URL carries PASSWORD for the password,
 * and a word says so, since the password itself is never printed.
 */
export function queueCommand(command: string, address: QueueAddress): string {
  const note = address.password === undefined ? '' : ' (with the Redis password in place of PASSWORD; nothing else changes)'
  return `${command} --queue ${address.inCommand}${note}`
}

/** `text` with the address's password (as given and as encoded in the URL) replaced by ***. */
export function redact(text: string, address: QueueAddress): string {
  const { password } = address
  if (password === undefined) return text
  return text.split(password).join('***').split(encodeURIComponent(password)).join('***')
}

/**
 * Options for the ioredis clients BullMQ makes. Commands wait while the server is away (BullMQ's
 * workers need `maxRetriesPerRequest: null`) and the client reconnects every second, so a
 * restarted Redis is found again at once; the coordinator decides how long is too long.
 */
export function connectionOptions(address: QueueAddress): { url: string; maxRetriesPerRequest: null; retryStrategy: () => number } {
  return { url: address.url, maxRetriesPerRequest: null, retryStrategy: () => 1000 }
}

/** The longest a single connection attempt waits for the server's answer, unless more of the time given is left. */
const ATTEMPT_MS = 5000

/** Errors that trying again will not mend: a wrong password, a certificate this machine does not trust, a server that is not Redis. */
const FATAL = /WRONGPASS|NOAUTH|NOPERM|WRONGTYPE|certificate|SSL|TLS|Unknown RESP type|Protocol error/i

/** The server's refusal of a SELECT of a database it does not have. */
const NO_DATABASE = /DB index is out of range/i

/** ioredis's words for a reply that is not Redis's protocol ("Unknown RESP type 72 "H". Please report this.") as what they mean: another service at that port. */
function described(message: string): string {
  const reply = /Unknown RESP type \d+ "(.*?)"|Protocol error/.exec(message)
  if (reply === null) return message
  const http = reply[1] === 'H' ? ' (an HTTP server: its replies begin with "H")' : ''
  return `the server there does not answer in Redis's protocol${http}; is the port that of another service?`
}

/**
 * Connects once with a plain client and pings, before BullMQ connects (whose clients, once made,
 * retry forever). Errors that may pass (a server still starting) are tried again until `waitMs`
 * has passed; a wrong password or an untrusted certificate fails at once. The error names the
 * address without its password; `onRetry` hears the first error that is tried again, with the
 * password hidden, so that a long wait is said at once.
 */
export async function probeRedis(address: QueueAddress, waitMs: number, onRetry?: (why: string) => void): Promise<void> {
  const deadline = Date.now() + waitMs
  let retried = false
  for (;;) {
    const client = new Redis(address.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    let last: Error | undefined
    client.on('error', (err: Error) => (last = err))
    // A server that accepts the connection and never answers (not Redis, or a stalled one) would
    // keep connect() waiting for its ready check: an attempt ends when the time given is up, or
    // after ATTEMPT_MS when less is left (a single try, waitMs 0, gets that long).
    const attemptMs = Math.max(ATTEMPT_MS, deadline - Date.now())
    let timer: NodeJS.Timeout | undefined
    const timeUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(attemptMs / 1000)} s`)), attemptMs)
    })
    try {
      await Promise.race([client.connect().then(() => client.ping()), timeUp])
      // ioredis selects the URL's database as it connects, and a server without that database
      // refuses it with no more than an error event: the client stays on database 0, where a run
      // would go on unseen among another queue's tasks.
      if (last === undefined) return
      throw last
    } catch (err) {
      const why = last ?? (err as Error)
      if (NO_DATABASE.test(why.message)) throw await missingDatabase(client, address, why.message)
      if (FATAL.test(why.message) || Date.now() >= deadline) {
        throw new OuroborosError(ErrorCode.CONFIG, `${address.option}: cannot use Redis at ${address.shown}: ${redact(described(why.message), address)}`, {
          hint: 'is redis-server running there, does the URL carry its password, and does this machine trust its TLS certificate (NODE_EXTRA_CA_CERTS)?',
        })
      }
      if (!retried) onRetry?.(redact(described(why.message), address))
      retried = true
    } finally {
      clearTimeout(timer)
      client.disconnect()
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, Math.max(0, deadline - Date.now()))))
  }
}

/** The error for a URL naming a database the server lacks, with the databases it has where it says (CONFIG may be refused to this user). */
async function missingDatabase(client: Redis, address: QueueAddress, reply: string): Promise<OuroborosError> {
  let has = ''
  try {
    const [, count] = (await client.config('GET', 'databases')) as string[]
    if (count !== undefined && Number(count) > 0) has = `, which has databases 0 to ${Number(count) - 1}`
  } catch {
    // Not allowed to ask: the message goes without the count.
  }
  return configError(`${address.option}: database ${address.db} does not exist on ${address.server}${has} (${redact(reply, address)})`)
}

/** The id of the last entry of a Redis stream, '0-0' when it has none: where to start reading it. */
export async function streamEnd(address: QueueAddress, key: string): Promise<string> {
  const client = new Redis(address.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
  try {
    await client.connect()
    const last = await client.xrevrange(key, '+', '-', 'COUNT', 1)
    return last[0]?.[0] ?? '0-0'
  } finally {
    client.disconnect()
  }
}
