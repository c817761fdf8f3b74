import { assignToModes, asVectors, configError, didYouMean, type DatasetInfo, type GoldRewardConfig, type Modality, type Samples, type TokenSamples } from '@ouroboros/core'
import type { Reward } from './reward.js'

/**
 * A gold reward: a known function of a sample. `where` names the config field in errors, which
 * come before anything runs (the CLI builds every stage's reward against the dataset once).
 */
export async function goldReward(spec: GoldRewardConfig, dataset: DatasetInfo, where: string): Promise<Reward> {
  const problem = rewardSamplesProblem(spec.kind, dataset.modality, `data.kind '${dataset.kind}' gives`)
  if (problem !== undefined) throw configError(`${where}.kind: ${problem}`)
  switch (spec.kind) {
    case 'modes':
      return modesReward(spec.values, dataset, where)
    case 'point':
      return pointReward(spec.at, spec.scale, dataset, where)
    case 'lexicon':
      return lexiconReward(spec.words, spec.per, dataset, where)
    case 'length':
      return lengthReward(spec.target, spec.scale, dataset, where)
    case 'genre':
    case 'digit':
      return classifierReward(spec, dataset, where)
  }
}

/**
 * What each gold reward scores, and the samples it takes: read here against the data and by the
 * config's checks against the model, so that a reward on the wrong samples is said with a stage's
 * key problems.
 */
export const GOLD_REWARD_TAKES: Readonly<Record<GoldRewardConfig['kind'], { readonly modality: Modality; readonly what: string }>> = {
  modes: { modality: 'vectors', what: 'vectors (by the nearest mode of ring or grid data)' },
  point: { modality: 'vectors', what: 'vectors' },
  digit: { modality: 'vectors', what: 'vectors (MNIST images)' },
  lexicon: { modality: 'tokens', what: 'sentences' },
  length: { modality: 'tokens', what: 'sentences' },
  genre: { modality: 'tokens', what: 'sentences (of the Brown corpus)' },
}

/**
 * Why a gold reward of `kind` cannot score the samples `source` gives ("model 'gmm' makes"), in
 * words; undefined where it can, or where `kind` is no gold reward's.
 */
export function rewardSamplesProblem(kind: string, modality: Modality, source: string): string | undefined {
  const takes = Object.hasOwn(GOLD_REWARD_TAKES, kind) ? GOLD_REWARD_TAKES[kind as GoldRewardConfig['kind']] : undefined
  if (takes === undefined || takes.modality === modality) return undefined
  return `'${kind}' rewards ${takes.what}, but ${source} ${modality === 'tokens' ? 'sentences' : 'vectors'}`
}

function modesReward(values: readonly number[], dataset: DatasetInfo, where: string): Reward {
  const modes = dataset.modes
  if (modes === undefined) throw configError(`${where}.kind: 'modes' rewards the nearest mode, which data.kind '${dataset.kind}' does not have; use ring or grid data`)
  if (values.length !== modes.k) throw configError(`${where}.values: ${values.length} values for the ${modes.k} modes of data.kind '${dataset.kind}'`)
  const v = Float64Array.from(values)
  return {
    description: `value of the nearest mode (${values.join(', ')})`,
    score(s) {
      // Every sample is rewarded by its nearest mode, high quality or not (the rule of reverse_kl).
      const { nearest } = assignToModes(asVectors(s, 'modes reward: samples'), modes, 3, 'modes reward: samples')
      return Float64Array.from(nearest, (m) => v[m]!)
    },
  }
}

function pointReward(at: readonly number[], scale: number, dataset: DatasetInfo, where: string): Reward {
  if (dataset.d !== undefined && at.length !== dataset.d) throw configError(`${where}.at: ${at.length} coordinates for ${dataset.d}-dimensional data`)
  const inv = 1 / (scale * scale)
  return {
    description: `−‖x − (${at.join(', ')})‖² / ${scale}²`,
    score(s) {
      const x = asVectors(s, 'point reward: samples')
      const out = new Float64Array(x.n)
      for (let i = 0; i < x.n; i++) {
        let d2 = 0
        for (let j = 0; j < x.d; j++) d2 += (x.data[i * x.d + j]! - at[j]!) ** 2
        out[i] = -d2 * inv
      }
      return out
    },
  }
}

function tokenData(dataset: DatasetInfo, kind: string, where: string): readonly string[] {
  if (dataset.vocabulary === undefined) throw configError(`${where}.kind: '${kind}' needs the words of the data's vocabulary, which data.kind '${dataset.kind}' does not give`)
  return dataset.vocabulary
}

function lexiconReward(words: readonly string[] | Record<string, number>, per: 'sentence' | 'token', dataset: DatasetInfo, where: string): Reward {
  const vocabulary = tokenData(dataset, 'lexicon', where)
  const ids = new Map(vocabulary.map((w, i) => [w, i]))
  const value = new Float64Array(vocabulary.length)
  const entries = Array.isArray(words) ? words.map((w) => [w, 1] as const) : Object.entries(words)
  // Every word the vocabulary lacks, at once, each with the word it is near.
  const unknown = entries.map(([word]) => word).filter((word) => !ids.has(word))
  if (unknown.length > 0) {
    const named = unknown.map((word) => {
      // Brown and text files are read lower-cased: 'Free' is the word 'free'.
      const lower = word.toLowerCase()
      return `'${word}'${lower !== word && ids.has(lower) ? ` (the data's words are lower-cased: '${lower}')` : didYouMean(word, vocabulary)}`
    })
    throw configError(`${where}.words: ${named.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in the vocabulary of data.kind '${dataset.kind}'`)
  }
  for (const [word, v] of entries) value[ids.get(word)!] = v
  return {
    description: `lexicon of ${entries.length} word${entries.length === 1 ? '' : 's'} (${listed(entries, Array.isArray(words))}), ${per === 'token' ? 'their values averaged over a sentence’s tokens' : 'their values summed over a sentence'}`,
    score(s) {
      const t = asTokens(s)
      const out = new Float64Array(t.n)
      for (let i = 0; i < t.n; i++) {
        const from = t.offsets[i]!
        const to = t.offsets[i + 1]!
        let sum = 0
        for (let k = from; k < to; k++) sum += value[t.tokens[k]!] ?? 0
        out[i] = per === 'token' ? (to > from ? sum / (to - from) : 0) : sum
      }
      return out
    },
    perToken: per === 'sentence' ? value : undefined,
  }
}

/** A lexicon's words, with their values where they have their own, the first few of a long one. */
function listed(entries: readonly (readonly [string, number])[], plain: boolean): string {
  const shown = entries.slice(0, LISTED_WORDS).map(([w, v]) => (plain ? w : `${w} ${v}`))
  return entries.length > LISTED_WORDS ? `${shown.join(', ')} and ${entries.length - LISTED_WORDS} more` : shown.join(', ')
}

const LISTED_WORDS = 8

function lengthReward(target: number, scale: number, dataset: DatasetInfo, where: string): Reward {
  tokenData(dataset, 'length', where)
  return {
    description: `−|length − ${target}| / ${scale}`,
    score(s) {
      const t = asTokens(s)
      return Float64Array.from({ length: t.n }, (_, i) => -Math.abs(t.offsets[i + 1]! - t.offsets[i]! - target) / scale)
    },
  }
}

async function classifierReward(spec: Extract<GoldRewardConfig, { kind: 'genre' | 'digit' }>, dataset: DatasetInfo, where: string): Promise<Reward> {
  const metrics = await import('@ouroboros/metrics')
  if (spec.kind === 'genre') {
    if (dataset.kind !== 'brown') throw configError(`${where}.kind: 'genre' uses the Brown genre classifier, but data.kind is '${dataset.kind}'`)
    const scorer = await metrics.genreLogProbability(dataset, spec.genre).catch((err: Error) => {
      throw configError(`${where}.genre: ${err.message}`)
    })
    return { description: `log P(genre ${spec.genre}) under the Brown genre classifier`, score: scorer }
  }
  if (dataset.labelled === undefined) throw configError(`${where}.kind: 'digit' uses the MNIST classifier, but data.kind is '${dataset.kind}'`)
  const scorer = await metrics.digitLogProbability(dataset, spec.digit)
  return { description: `log P(digit ${spec.digit}) under the MNIST classifier`, score: scorer }
}

function asTokens(s: Samples): TokenSamples {
  if (s.modality !== 'tokens') throw new TypeError('a token reward got vectors')
  return s
}
