import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { ErrorCode, type OuroborosError } from '@ouroboros/core'
import { appendRecordBatch, recordedGenerations, recordLogPath } from './record-log.js'
import { forEachRecord, recordBatch } from './record-batch.js'
import { exportRecords, finalizeRecords } from './record-files.js'
import { BLOCK_ROWS, recordChains, RecordSource, type RecordChain } from './record-reader.js'
import { thrown } from './process.testutil.js'
import { readRecords, writeRunInfo, type MetricRecord, type RunInfo } from './run-dir.js'

const dirs: string[] = []
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'ouroboros-records-'))
  dirs.push(d)
  return d
}

// Two sweep cells (a string and an integer parameter), two replicates each; cell 1 lists its
// replicates first in run.json, so the files must sort them.
const cells = [
  { index: 0, label: 'a', params: { 'policy.kind': 'replace', 'model.components': 4 }, config: {} },
  { index: 1, label: 'b', params: { 'policy.kind': 'mix, "0.5"', 'model.components': 8 }, config: {} },
]
const chains: RecordChain[] = [
  { id: 'c1-r1', cell: 1, replicate: 1, seed: 2 ** 40 + 1, params: cells[1]!.params },
  { id: 'c1-r0', cell: 1, replicate: 0, seed: 5, params: cells[1]!.params },
  { id: 'c0-r0', cell: 0, replicate: 0, seed: 5, params: cells[0]!.params },
  { id: 'c0-r1', cell: 0, replicate: 1, seed: 2 ** 40 + 1, params: cells[0]!.params },
]
const G = 6

function record(c: RecordChain, generation: number, evalMs = 1): MetricRecord {
  const metrics: Record<string, number | null> = { alpha: c.cell * 100 + c.replicate * 10 + generation + 0.25, beta: generation === 3 ? null : (1 - generation) / 3 }
  // A metric only the generations ≥ 0 have (as a filter's share kept): the reference record lacks it.
  if (generation >= 0) metrics['gamma'] = 1e-300 * (generation + 1)
  return { chain: c.id, cell: c.cell, replicate: c.replicate, seed: c.seed, params: c.params, generation, metrics, timings: { fitMs: 2.5, sampleMs: 0.125, evalMs } }
}

/** What the files must hold, made here by hand: sorted, every metric of the run on every record. */
function expected(): MetricRecord[] {
  return [...chains]
    .sort((a, b) => a.cell - b.cell || a.replicate - b.replicate)
    .flatMap((c) =>
      Array.from({ length: G + 1 }, (_, k) => {
        const r = record(c, k - 1)
        return { ...r, metrics: { alpha: r.metrics['alpha']!, beta: r.metrics['beta']!, gamma: r.metrics['gamma'] ?? null } }
      }),
    )
}

/** A run's records arriving out of order, in batches of several chains, with generation 2 of c0-r0 computed twice. */
function writeLog(dir: string): void {
  const info = { name: 't', cells, chains: chains.map((c) => ({ ...c, status: 'finished', generationsDone: G })) } as unknown as RunInfo
  writeRunInfo(dir, info)
  const all = chains.flatMap((c) => Array.from({ length: G + 1 }, (_, k) => record(c, k - 1)))
  const shuffled = [...all].sort((a, b) => ((a.generation * 7 + a.replicate * 3 + a.cell) % 5) - ((b.generation * 7 + b.replicate * 3 + b.cell) % 5))
  for (let i = 0; i < shuffled.length; i += 5) appendRecordBatch(dir, recordBatch(shuffled.slice(i, i + 5)))
  // The later record wins; its timings tell which one was kept.
  appendRecordBatch(dir, recordBatch([record(chains[2]!, 2, 99)]))
}

function withTimings(list: MetricRecord[]): MetricRecord[] {
  return list.map((r) => (r.chain === 'c0-r0' && r.generation === 2 ? { ...r, timings: { ...r.timings, evalMs: 99 } } : r))
}

describe('the record log', () => {
  it('reads back sorted, one record per (chain, generation), the later one winning, every metric on every record', () => {
    const dir = tempDir()
    writeLog(dir)
    expect(readRecords(dir)).toEqual(withTimings(expected()))
  })

  it('skips a torn last frame, and cuts it off before a resume appends', () => {
    const dir = tempDir()
    writeLog(dir)
    const size = statSync(recordLogPath(dir)).size
    appendFileSync(recordLogPath(dir), Buffer.from([0x4f, 0x52, 0x4c, 0x31, 9, 0, 0]))
    expect(readRecords(dir)).toEqual(withTimings(expected()))
    const recorded = recordedGenerations(dir)
    expect(statSync(recordLogPath(dir)).size).toBe(size)
    expect([...recorded.keys()].sort()).toEqual(['c0-r0', 'c0-r1', 'c1-r0', 'c1-r1'])
    for (const set of recorded.values()) {
      expect(set.size).toBe(G + 1)
      expect(set.has(-1) && set.has(G - 1) && !set.has(G)).toBe(true)
    }
  })

  /** recordedGenerations, as a resume calls it, and what it said on stderr. */
  function resumed(dir: string): { recorded: ReturnType<typeof recordedGenerations>; said: string } {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    try {
      const recorded = recordedGenerations(dir)
      return { recorded, said: write.mock.calls.map((c) => String(c[0])).join('') }
    } finally {
      write.mockRestore()
    }
  }

  it('skips zero bytes after the last whole frame (a power loss on ext4), and a resume cuts them off saying so in one line', () => {
    const dir = tempDir()
    writeLog(dir)
    const size = statSync(recordLogPath(dir)).size
    appendFileSync(recordLogPath(dir), Buffer.alloc(60))
    expect(readRecords(dir)).toEqual(withTimings(expected()))
    const { recorded, said } = resumed(dir)
    expect(statSync(recordLogPath(dir)).size).toBe(size)
    expect(said).toBe(`ouroboros: ${recordLogPath(dir)} ended in zero bytes from byte ${size} on, which a power loss leaves; they hold no record and were cut off\n`)
    for (const set of recorded.values()) expect(set.size).toBe(G + 1)
    // A torn frame, what a kill leaves, is cut off without a word, as before.
    appendFileSync(recordLogPath(dir), Buffer.from([0x4f, 0x52, 0x4c, 0x31, 9, 0, 0]))
    expect(resumed(dir).said).toBe('')
    expect(statSync(recordLogPath(dir)).size).toBe(size)
  })

  it('drops with the zero bytes a last frame whose last row the disk never got (zero bytes over a whole row)', () => {
    const dir = tempDir()
    writeLog(dir)
    const at = statSync(recordLogPath(dir)).size
    const c = chains[1]!
    appendRecordBatch(dir, recordBatch([record(c, G), record(c, G + 1)]))
    const log = readFileSync(recordLogPath(dir))
    const rowBytes = 8 * log.readUInt32LE(at + 12)
    // The file kept its size; its last block, from inside the frame's first row on, reads as zeros.
    log.fill(0, log.length - rowBytes - 8)
    writeFileSync(recordLogPath(dir), Buffer.concat([log, Buffer.alloc(100)]))
    expect(readRecords(dir)).toEqual(withTimings(expected()))
    const { recorded, said } = resumed(dir)
    expect(said).toContain(`ended in zero bytes from byte ${at} on`)
    expect(statSync(recordLogPath(dir)).size).toBe(at)
    expect(recorded.get(c.id)!.has(G)).toBe(false)
  })

  it('refuses other damage with the way out that keeps the directory: restore the log, or run the config again with --force', () => {
    const garbage = (log: Buffer, size: number): Buffer[] => [
      Buffer.concat([log, Buffer.from('a line of notes appended to the log\n')]),
      // Zero bytes with something after them are no unwritten tail.
      Buffer.concat([log, Buffer.alloc(64), Buffer.from([1])]),
      // A changed byte of a frame's magic number, in the middle of the log.
      Buffer.concat([log.subarray(0, size), Buffer.from([0x4f ^ 0xff]), log.subarray(size + 1)]),
    ]
    const dir = tempDir()
    writeLog(dir)
    const log = readFileSync(recordLogPath(dir))
    const firstFrame = 16 + Math.ceil(log.readUInt32LE(4) / 8) * 8 + 8 * log.readUInt32LE(8) * log.readUInt32LE(12)
    for (const [i, damaged] of garbage(log, firstFrame).entries()) {
      writeFileSync(recordLogPath(dir), damaged)
      for (const read of [() => readRecords(dir), () => recordedGenerations(dir)]) {
        const err = thrown(read)
        expect(err.message, `case ${i}`).toBe(`${recordLogPath(dir)} is damaged: no frame at byte ${i === 2 ? firstFrame : log.length}`)
        expect(err.hint).toBe('the records cannot be recomputed from the checkpoints: restore records.log from a copy, or run the config again with --force')
        expect(err.hint).not.toContain('delete')
      }
      expect(readFileSync(recordLogPath(dir)).equals(damaged)).toBe(true)
    }
  })

  it('refuses a record whose generation a changed byte made a fraction, which it would otherwise drop or count as its neighbour', () => {
    const dir = tempDir()
    writeLog(dir)
    const log = readFileSync(recordLogPath(dir))
    const rows = 16 + Math.ceil(log.readUInt32LE(4) / 8) * 8
    const generation = log.readDoubleLE(rows)
    log[rows] ^= 0x01
    writeFileSync(recordLogPath(dir), log)
    const shown = log.readDoubleLE(rows)
    expect(Number.isInteger(shown) || shown === generation).toBe(false)
    for (const read of [() => readRecords(dir), () => recordedGenerations(dir)]) {
      expect(thrown(read).message).toBe(`${recordLogPath(dir)} is damaged: the record at byte ${rows} is of generation ${shown}, not a whole number from -1 on`)
    }
  })

  it('takes the metrics.ndjson of a run directory from before the log into a new log on resume', () => {
    const dir = tempDir()
    writeLog(dir)
    const want = readRecords(dir)
    rmSync(recordLogPath(dir))
    writeFileSync(join(dir, 'metrics.ndjson'), want.map((r) => JSON.stringify(r) + '\n').join(''))
    // Read as it is, then adopted: the resume appends to the log from there.
    expect(readRecords(dir)).toEqual(want)
    expect(recordedGenerations(dir).get('c1-r1')!.size).toBe(G + 1)
    expect(statSync(recordLogPath(dir)).size).toBeGreaterThan(0)
    rmSync(join(dir, 'metrics.ndjson'))
    expect(readRecords(dir)).toEqual(want)
  })

  it('streams in blocks of whole chains', () => {
    const dir = tempDir()
    writeLog(dir)
    const source = new RecordSource(dir, chains)
    const sizes = [...source.blocks(G + 3)].map((b) => b.length)
    // A block of 9 rows is full only after a second chain of 7 (8 with c0-r0's duplicate): whole chains, never split.
    expect(sizes).toEqual([2 * (G + 1), 2 * (G + 1)])
  })
})

describe('records that run.json says were made', () => {
  /** run.json with each chain's status and generations done as given, over the log as it is. */
  function claim(dir: string, claims: Record<string, [status: string, generationsDone: number]>): void {
    const info = { name: 't', cells, chains: chains.map((c) => ({ ...c, status: claims[c.id]![0], generationsDone: claims[c.id]![1] })) } as unknown as RunInfo
    writeRunInfo(dir, info)
  }
  const finished = Object.fromEntries(chains.map((c) => [c.id, ['finished', G] as [string, number]]))
  const failure = (f: () => unknown): OuroborosError => {
    try {
      f()
    } catch (err) {
      return err as OuroborosError
    }
    throw new Error('expected a throw')
  }

  it('a log cut short or replaced under a finished run: an error naming the log and what is missing, the record files kept', async () => {
    const dir = tempDir()
    writeLog(dir)
    await finalizeRecords(dir, chains, { text: true })
    const ndjson = readFileSync(join(dir, 'metrics.ndjson'))
    const log = readFileSync(recordLogPath(dir))
    writeFileSync(recordLogPath(dir), log.subarray(0, log.length >> 1))
    const cut = failure(() => readRecords(dir))
    expect(cut.code).toBe(ErrorCode.RUN_DIR)
    expect(cut.message).toMatch(/^\S+ lacks records that run\.json says were made \(bytes \d+ to \d+, its end, are no whole record: it was cut short or written over\): chain c0-r0 \(finished after 6 generations\) has no record of generations? /)
    expect(cut.message.startsWith(`${recordLogPath(dir)} `)).toBe(true)
    expect(cut.message).toContain(` to ${log.length >> 1}, its end`)
    const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunInfo
    await expect(exportRecords(dir, recordChains(info), 'ndjson')).rejects.toThrow(cut.message)
    expect(readFileSync(join(dir, 'metrics.ndjson')).equals(ndjson)).toBe(true)
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([])

    writeFileSync(recordLogPath(dir), 'hello\n')
    expect(failure(() => readRecords(dir)).message).toContain(': chain c0-r0 (finished after 6 generations) has no record of generations -1 to 5; chain c0-r1 (finished after 6 generations) has no record of generations -1 to 5; chain c1-r0 (finished after 6 generations) has no record of generations -1 to 5; and 1 more chain')
  })

  it("a killed run's log, ahead of run.json and ending in a torn frame, reads as it is", () => {
    const dir = tempDir()
    writeLog(dir)
    appendFileSync(recordLogPath(dir), Buffer.from([0x4f, 0x52, 0x4c, 0x31, 9, 0, 0]))
    claim(dir, { ...finished, 'c0-r0': ['running', 4], 'c1-r1': ['pending', 0] })
    expect(readRecords(dir)).toHaveLength(4 * (G + 1))
  })

  it('a finished chain missing one generation is refused though duplicates make up its count', () => {
    const dir = tempDir()
    const c = chains[3]!
    writeRunInfo(dir, { name: 't', cells, chains: [{ ...c, status: 'finished', generationsDone: G }] } as unknown as RunInfo)
    const kept = Array.from({ length: G + 1 }, (_, k) => record(c, k - 1)).filter((r) => r.generation !== 4)
    appendRecordBatch(dir, recordBatch([...kept, record(c, 2)]))
    expect(failure(() => readRecords(dir)).message).toBe(`${recordLogPath(dir)} lacks records that run.json says were made: chain c0-r1 (finished after 6 generations) has no record of generation 4`)
    // The hint names the record files there are, which the command leaves as they were.
    expect(failure(() => readRecords(dir)).hint).toMatch(/ --force; nothing was written$/)
    writeFileSync(join(dir, 'metrics.csv'), '')
    expect(failure(() => readRecords(dir)).hint).toMatch(/ --force; nothing was written, and the record files the run wrote \(metrics\.csv\) are as they were$/)
  })

  it('a run with neither records.log nor metrics.ndjson is refused naming the log as missing, not metrics.ndjson as short', () => {
    const dir = tempDir()
    const c = chains[3]!
    writeRunInfo(dir, { name: 't', cells, chains: [{ ...c, status: 'finished', generationsDone: G }] } as unknown as RunInfo)
    writeFileSync(join(dir, 'metrics.csv'), '')
    const err = failure(() => readRecords(dir))
    expect(err.message).toBe(`${recordLogPath(dir)} is missing, and so is metrics.ndjson, which could stand in for it: run.json says records were made`)
    expect(err.hint).toBe('the records cannot be recomputed from the checkpoints: restore records.log from a copy, or run the config again with --force; nothing was written, and the record files the run wrote (metrics.csv) are as they were')
  })

  it("of a chain that stopped, the last generation run.json counts must be there; an earlier gap is a segment's scoring still in flight", () => {
    const dir = tempDir()
    const c = chains[3]!
    writeRunInfo(dir, { name: 't', cells, chains: [{ ...c, status: 'interrupted', generationsDone: 5 }] } as unknown as RunInfo)
    appendRecordBatch(dir, recordBatch([-1, 0, 1, 3, 4].map((g) => record(c, g))))
    expect(readRecords(dir).map((r) => r.generation)).toEqual([-1, 0, 1, 3, 4])
    writeRunInfo(dir, { name: 't', cells, chains: [{ ...c, status: 'interrupted', generationsDone: 6 }] } as unknown as RunInfo)
    expect(failure(() => readRecords(dir)).message).toBe(`${recordLogPath(dir)} lacks records that run.json says were made: chain c0-r1 (stopped after 6 generations) has no record of generation 5`)
  })
})

describe('the record files', () => {
  it('keeps a swept parameter named like a record field apart, in metrics.parquet and metrics.csv alike: a sweep over seed', async () => {
    const dir = tempDir()
    // The chain's seed (derived from the swept run seed) is not the swept value.
    const swept: RecordChain[] = [1, 2].map((s, cell) => ({ id: `c${cell}-r0`, cell, replicate: 0, seed: 10 * s, params: { seed: s } }))
    writeRunInfo(dir, { name: 't', cells: [], chains: swept.map((c) => ({ ...c, status: 'finished', generationsDone: 1 })) } as unknown as RunInfo)
    appendRecordBatch(dir, recordBatch(swept.map((c) => ({ chain: c.id, cell: c.cell, replicate: 0, seed: c.seed, params: c.params, generation: 0, metrics: { m: 1 }, timings: { fitMs: 0, sampleMs: 0, evalMs: 0 } }))))
    await finalizeRecords(dir, swept, { text: true })
    expect(readFileSync(join(dir, 'metrics.csv'), 'utf8')).toBe('chain,replicate,generation,metric,value,cell,params.seed\nc0-r0,0,0,m,1,0,1\nc1-r0,0,0,m,1,1,2\n')
    expect(readFileSync(join(dir, 'metrics.ndjson'), 'utf8').split('\n')[0]).toContain('"seed":10,')
    const conn = await (await DuckDBInstance.create(':memory:')).connect()
    const rows = (await conn.runAndReadAll(`SELECT seed, "params.seed" FROM read_parquet('${join(dir, 'metrics.parquet').replace(/'/g, "''")}')`)).getRowObjects()
    conn.closeSync()
    expect(rows).toEqual([
      { seed: 10n, 'params.seed': 1n },
      { seed: 20n, 'params.seed': 2n },
    ])
  })

  it('writes the files of a run with no record (every chain failed before one): no rows, the record columns', async () => {
    const dir = tempDir()
    writeRunInfo(dir, { name: 't', cells, chains: chains.map((c) => ({ ...c, status: 'failed', generationsDone: 0 })) } as unknown as RunInfo)
    await finalizeRecords(dir, chains, { text: true })
    const conn = await (await DuckDBInstance.create(':memory:')).connect()
    const file = join(dir, 'metrics.parquet').replace(/'/g, "''")
    const columns = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRows().map((r) => r[0])
    const count = (await conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${file}')`)).getRows()[0]![0]
    conn.closeSync()
    expect(columns).toEqual(['chain', 'cell', 'replicate', 'seed', 'generation', 'policy.kind', 'model.components', 'fitMs', 'sampleMs', 'evalMs'])
    expect(count).toBe(0n)
    expect(readFileSync(join(dir, 'metrics.ndjson'), 'utf8')).toBe('')
  })

  it('writes metrics.ndjson and metrics.csv sorted, with the cell and swept parameters in the CSV', async () => {
    const dir = tempDir()
    writeLog(dir)
    const written = await finalizeRecords(dir, chains, { text: true })
    expect(written.records).toBe(4 * (G + 1))
    const want = withTimings(expected())
    expect(readFileSync(join(dir, 'metrics.ndjson'), 'utf8')).toBe(want.map((r) => JSON.stringify(r) + '\n').join(''))
    const csv = readFileSync(join(dir, 'metrics.csv'), 'utf8').split('\n')
    expect(csv[0]).toBe('chain,replicate,generation,metric,value,cell,policy.kind,model.components')
    expect(csv).toHaveLength(1 + 3 * want.length + 1)
    expect(csv[1]).toBe('c0-r0,0,-1,alpha,-0.75,0,replace,4')
    expect(csv[3]).toBe('c0-r0,0,-1,gamma,,0,replace,4')
    expect(csv.find((l) => l.startsWith('c1-r1,1,3,beta,'))).toBe('c1-r1,1,3,beta,,1,"mix, ""0.5""",8')
  })

  it('leaves the text files out when asked, and export writes them later, byte for byte', async () => {
    const dir = tempDir()
    writeLog(dir)
    await finalizeRecords(dir, chains, { text: true })
    const ndjson = readFileSync(join(dir, 'metrics.ndjson'), 'utf8')
    const csv = readFileSync(join(dir, 'metrics.csv'), 'utf8')
    const other = tempDir()
    writeLog(other)
    await finalizeRecords(other, chains, { text: false })
    expect(() => statSync(join(other, 'metrics.ndjson'))).toThrow()
    expect(() => statSync(join(other, 'metrics.csv'))).toThrow()
    await exportRecords(other, chains, 'csv')
    await exportRecords(other, chains, 'ndjson')
    expect(readFileSync(join(other, 'metrics.csv'), 'utf8')).toBe(csv)
    expect(readFileSync(join(other, 'metrics.ndjson'), 'utf8')).toBe(ndjson)
  })

  it('writes metrics.parquet in row groups of at most a block, so that the writer holds one block at a time', async () => {
    const dir = tempDir()
    const long = chains.slice(0, 3)
    const generations = 30_000
    writeRunInfo(dir, { name: 't', cells, chains: long.map((c) => ({ ...c, status: 'finished', generationsDone: generations })) } as unknown as RunInfo)
    for (const c of long) appendRecordBatch(dir, recordBatch(Array.from({ length: generations }, (_, g) => record(c, g))))
    await finalizeRecords(dir, long, { text: false })
    const conn = await (await DuckDBInstance.create(':memory:')).connect()
    const file = join(dir, 'metrics.parquet').replace(/'/g, "''")
    const groups = (await conn.runAndReadAll(`SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${file}')`)).getRowObjects()
    // Every row as written, across the places where a block is cut between row groups (the chain's
    // dictionary, the nulls of generation 3 and the reference record's missing gamma included).
    const rows = (await conn.runAndReadAll(`SELECT chain, generation, alpha, beta, gamma FROM read_parquet('${file}')`)).getRowObjects()
    conn.closeSync()
    const sizes = groups.map((g) => Number(g['row_group_num_rows']))
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(3 * generations)
    expect(sizes.length).toBeGreaterThan(1)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(BLOCK_ROWS)
    const want = [...long]
      .sort((a, b) => a.cell - b.cell || a.replicate - b.replicate)
      .flatMap((c) => Array.from({ length: generations }, (_, g) => record(c, g)))
    expect(rows.length).toBe(want.length)
    rows.forEach((row, i) => {
      const r = want[i]!
      expect([row['chain'], row['generation'], row['alpha'], row['beta'], row['gamma']]).toEqual([r.chain, r.generation, r.metrics['alpha'], r.metrics['beta'], r.metrics['gamma']])
    })
  })

  it('writes metrics.parquet that DuckDB reads as the same records', async () => {
    const dir = tempDir()
    writeLog(dir)
    await finalizeRecords(dir, chains, { text: false })
    const db = await DuckDBInstance.create(':memory:')
    const conn = await db.connect()
    const file = join(dir, 'metrics.parquet').replace(/'/g, "''")
    const types = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjects()
    expect(types.map((t) => `${String(t['column_name'])} ${String(t['column_type'])}`)).toEqual([
      'chain VARCHAR',
      'cell INTEGER',
      'replicate INTEGER',
      'seed BIGINT',
      'generation INTEGER',
      'policy.kind VARCHAR',
      'model.components BIGINT',
      'alpha DOUBLE',
      'beta DOUBLE',
      'gamma DOUBLE',
      'fitMs DOUBLE',
      'sampleMs DOUBLE',
      'evalMs DOUBLE',
    ])
    const rows = (await conn.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjects()
    conn.closeSync()
    const want = withTimings(expected())
    expect(rows).toHaveLength(want.length)
    rows.forEach((row, i) => {
      const r = want[i]!
      expect({
        chain: row['chain'],
        cell: row['cell'],
        replicate: row['replicate'],
        seed: row['seed'],
        generation: row['generation'],
        params: { 'policy.kind': row['policy.kind'], 'model.components': Number(row['model.components']) },
        metrics: { alpha: row['alpha'], beta: row['beta'], gamma: row['gamma'] },
        timings: { fitMs: row['fitMs'], sampleMs: row['sampleMs'], evalMs: row['evalMs'] },
      }).toEqual({ ...r, seed: BigInt(r.seed) })
    })
  })
})

describe('forEachRecord', () => {
  it("gives each record's chain, generation and summed timings, part after part, row after row", () => {
    const batch = recordBatch([record(chains[0]!, -1), record(chains[0]!, 0, 4), record(chains[2]!, 3, 0.5), record(chains[0]!, 1)])
    const seen: [string, number, number][] = []
    forEachRecord(batch, (chain, generation, ms) => seen.push([chain, generation, ms]))
    // Timings: fit 2.5 and sample 0.125, plus the evaluation time given (1 by default).
    expect(seen).toEqual([
      ['c1-r1', -1, 3.625],
      ['c1-r1', 0, 6.625],
      ['c1-r1', 1, 3.625],
      ['c0-r0', 3, 3.125],
    ])
  })
})
