import { ErrorCode, OuroborosError, type ChainSizes, type PolicyConfig, type PolicyInputs, type PolicyPlugin, type TrainingPart, type TrainingPlan } from '@ouroboros/core'
import { pluginName } from '../plugins.js'

export type { PolicyInputs, TrainingPart, TrainingPlan } from '@ouroboros/core'

/** Rows in the parts of a plan, before any pick. */
export function partRows(part: TrainingPart, inputs: Pick<PolicyInputs, 'realN' | 'samplesPerGeneration'>): number {
  if (part.from === 'real') return inputs.realN
  if (part.from === 'fresh') return part.n
  return Math.min(part.head ?? inputs.samplesPerGeneration, inputs.samplesPerGeneration)
}

/** Rows of the training set a plan describes. */
export function planRows(plan: TrainingPlan, inputs: Pick<PolicyInputs, 'realN' | 'samplesPerGeneration'>): number {
  if (plan.pick !== undefined) return plan.pick.length
  let n = 0
  for (const part of plan.parts) n += partRows(part, inputs)
  return n
}

/** What a plan's part must hold, by its `from`; the hint of a plan that breaks it. */
const PLAN_SHAPE =
  "a policy's trainingSet(params, inputs) returns { parts, pick }: parts, a non-empty list of { from: 'real' }, { from: 'fresh', n } and { from: 'generation', generation, head }, with generation an earlier generation; pick, where given, indices of their rows (docs/extending.md)"

/** A value as a message about a plan quotes it: a string shows its quotes, so "0" is not read as 0. */
function shown(value: unknown): string {
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) return 'an object'
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

/** The sizes a policy declares, what each gives and what the run checks against it before it starts. */
const DECLARED = {
  largestTrainingSet: { gives: 'the rows of the largest training set the policy plans', checked: 'the memory' },
  smallestTrainingSet: { gives: 'the rows of the smallest training set the policy plans after generation 0', checked: "the model's fewest rows" },
  freshPerGeneration: { gives: 'the fresh real samples a plan draws', checked: "the data's pool" },
} as const

/** A chain's sizes in words. */
export function sizesWords(sizes: ChainSizes): string {
  return `n ${sizes.n}, samplesPerGeneration ${sizes.samplesPerGeneration}, generations ${sizes.generations}`
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0

/**
 * The plan a policy's trainingSet gave for generation g, or the chain's failure naming the policy,
 * the part and the field where it breaks the plan's shape (a plan is the policy's own code: without
 * this, a typo fails later in the scheduler's code, in words about its internals); where it reads
 * samples the chain does not keep for it; or where its size contradicts the sizes the policy
 * declared, against which the run checked the data's pool, the memory and the model's minimum
 * before it started. Kept samples: a generation that is not an earlier one, or, for a policy without
 * `needsAllGenerations`, any but the last; those files exist only by chance (the replicates below
 * keepSamples keep a few for the report), so such a read would fail hours into a large run and
 * pass in a small one.
 */
export function checkPlan(policy: PolicyPlugin<any>, config: PolicyConfig, plan: unknown, generation: number, sizes: ChainSizes): TrainingPlan {
  const g = generation
  const wrong = (field: string, problem: string): OuroborosError => planError(config, `trainingSet's plan for generation ${g}: ${field}: ${problem}`, PLAN_SHAPE)
  if (typeof plan !== 'object' || plan === null || Array.isArray(plan)) throw planError(config, `trainingSet returned ${shown(plan)} for generation ${g}; expected a plan, { parts: [...] }`, PLAN_SHAPE)
  const { parts, pick } = plan as { parts?: unknown; pick?: unknown }
  if (!Array.isArray(parts) || parts.length === 0) throw wrong('parts', `${Array.isArray(parts) ? 'an empty list' : shown(parts)}; expected a list of one part or more`)
  let rows = 0
  let fresh = 0
  for (const [i, part] of (parts as unknown[]).entries()) {
    if (typeof part !== 'object' || part === null || Array.isArray(part)) throw wrong(`parts.${i}`, `${shown(part)}; expected an object with from: 'real', 'fresh' or 'generation'`)
    const { from, n, generation: j, head } = part as Record<string, unknown>
    if (from === 'fresh') {
      if (!isCount(n)) throw wrong(`parts.${i}.n`, `${shown(n)}; expected the number of fresh real samples, an integer ≥ 0`)
      fresh += n
    } else if (from === 'generation') {
      if (typeof j !== 'number') throw wrong(`parts.${i}.generation`, `${shown(j)}; expected a number, an earlier generation (0 to ${g - 1})`)
      if (!Number.isInteger(j) || j < 0 || j >= g) {
        throw planError(config, `generation ${g}'s training set reads generation ${j}, which is not an earlier generation (0 to ${g - 1})`, PLAN_SHAPE)
      }
      if (!policy.needsAllGenerations && j !== g - 1) {
        throw planError(
          config,
          `generation ${g}'s training set reads generation ${j}'s samples, but the policy does not declare needsAllGenerations: true, without which a chain keeps only the last generation's (${g - 1})`,
          'set needsAllGenerations: true in its definePolicy, so that every generation\'s samples are kept for it',
        )
      }
      if (head !== undefined && !isCount(head)) throw wrong(`parts.${i}.head`, `${shown(head)}; expected the number of generation ${j}'s first samples to take, an integer ≥ 0, or no head for all of them`)
    } else if (from !== 'real') {
      throw wrong(`parts.${i}.from`, `${shown(from)} is not one of real, fresh, generation`)
    }
    rows += partRows(part as TrainingPart, { realN: sizes.n, samplesPerGeneration: sizes.samplesPerGeneration })
  }
  if (pick !== undefined) {
    if (!Array.isArray(pick) && !(ArrayBuffer.isView(pick) && !(pick instanceof DataView))) throw wrong('pick', `${shown(pick)}; expected a list of row indices (a Uint32Array)`)
    const indices = pick as ArrayLike<unknown>
    for (let k = 0; k < indices.length; k++) {
      const r = indices[k]
      if (!isCount(r) || r >= rows) throw wrong(`pick.${k}`, `${shown(r)} is not a row of its parts, whose ${rows} rows are 0 to ${rows - 1}`)
    }
  }
  const planned = (pick as ArrayLike<unknown> | undefined)?.length ?? rows
  if (planned === 0) throw wrong(pick === undefined ? 'parts' : 'pick', 'no rows; a model cannot be fit on none')
  // The sizes the run checked before it started hold only if the plans keep to them.
  const params = config as unknown
  const beyond = (what: string, hook: keyof typeof DECLARED, value: number | undefined): OuroborosError => {
    const gave = value === undefined ? `the policy has no ${hook}` : `${hook} gave ${value} for these sizes (${sizesWords(sizes)})`
    return planError(config, `generation ${g}'s training set has ${what}, but ${gave}, against which the run checked ${DECLARED[hook].checked} before it started`, `${hook}(params, sizes) gives ${DECLARED[hook].gives} (docs/extending.md)`)
  }
  const largest = policy.largestTrainingSet(params, sizes)
  if (planned > largest) throw beyond(`${planned} rows`, 'largestTrainingSet', largest)
  const smallest = policy.smallestTrainingSet?.(params, sizes)
  if (smallest !== undefined && planned < smallest) throw beyond(`${planned} rows`, 'smallestTrainingSet', smallest)
  const freshDeclared = policy.freshPerGeneration?.(params, sizes)
  if (fresh > (freshDeclared ?? 0)) throw beyond(`${fresh} fresh real samples`, 'freshPerGeneration', freshDeclared)
  return plan as TrainingPlan
}

/**
 * What is wrong with the sizes a policy declares for a chain (each a whole number; the largest at
 * least n, since generation 0 trains on the real data, and the smallest, of the generations after
 * 0, at most the largest where there are any), in
 * words naming the hook; undefined when nothing is. The run checks the data's pool, the memory and
 * the model's fewest rows against them before it starts: NaN would pass every check unsaid.
 */
export function declaredSizesProblem(policy: PolicyPlugin<any>, params: unknown, sizes: ChainSizes): string | undefined {
  const gave = (hook: keyof typeof DECLARED, value: unknown, expected: string): string =>
    `${hook} gave ${shown(value)} for these sizes (${sizesWords(sizes)}); expected ${expected}: ${hook}(params, sizes) gives ${DECLARED[hook].gives}`
  const largest = policy.largestTrainingSet(params, sizes)
  if (!isCount(largest) || largest < sizes.n) return gave('largestTrainingSet', largest, `a whole number at least n (${sizes.n}), since generation 0 trains on the real data`)
  const smallest = policy.smallestTrainingSet?.(params, sizes)
  // With one generation there is no generation after 0, whose sets the largest need not hold.
  const most = sizes.generations > 1 ? largest : Infinity
  if (smallest !== undefined && !(isCount(smallest) && smallest >= 1 && smallest <= most)) {
    return gave('smallestTrainingSet', smallest, most === Infinity ? 'a whole number ≥ 1' : `a whole number from 1 to largestTrainingSet's ${largest}`)
  }
  const fresh = policy.freshPerGeneration?.(params, sizes)
  if (fresh !== undefined && !isCount(fresh)) return gave('freshPerGeneration', fresh, 'a whole number ≥ 0')
  return undefined
}

function planError(config: PolicyConfig, message: string, hint?: string): OuroborosError {
  return new OuroborosError(ErrorCode.PLUGIN, `${pluginName('policy', config.kind, config.module)}: ${message}`, hint === undefined ? {} : { hint })
}
