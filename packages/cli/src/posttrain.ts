import { Rng, UNKNOWN_WORD, configError, formatIssues, heldoutSize, toOuroborosError, type DatasetInfo, type DatasetPlugin, type MinimumRows, type Modality, type ModelPlugin, type PosttrainStageConfig, type Problem } from '@ouroboros/core'
import type { RlMethod } from '@ouroboros/posttrain'
import type { TaskSpec } from '@ouroboros/scheduler'

/**
 * Checks a cell's post-training stages against its data and model before anything runs, and
 * resolves each finetuning stage's task data: its `data` laid over the run's (so that
 * {"weights": [1, 1, 0, …]} restricts the run's ring), validated by the dataset plug-in, with its
 * sizes checked against the dataset's limits. Errors name `posttrain.<i>.<field>`.
 */
export async function resolvePosttrain(
  stages: readonly PosttrainStageConfig[],
  at: string,
  run: { data: Record<string, unknown>; n: number; heldout: number; samplesPerGeneration: number; info: DatasetInfo; minimumRows?: MinimumRows | undefined },
  model: ModelPlugin<any, any>,
  datasets: Readonly<Record<string, DatasetPlugin<any>>>,
  datasetModule: string,
): Promise<TaskSpec[]> {
  const { goldOf, goldReward, otherRlWay, rlMethod, rlSettingsProblems } = await import('@ouroboros/posttrain')
  const tasks: TaskSpec[] = []
  for (const [i, stage] of stages.entries()) {
    const where = `posttrain.${i}`
    // An rl stage's lr is its method's: refitting has none either way.
    if ((stage.kind === 'finetune' || stage.kind === 'dpo') && stage.lr !== undefined && model.trainerStep !== undefined) {
      throw configError(`${at}: ${where}.lr: model '${model.id}' has no step size to set: its trainer's step is ${model.trainerStep}; leave lr out`)
    }
    if (stage.kind === 'finetune') {
      const { kind: runKind, module: _module, n: _n, ...runParams } = run.data
      const { kind = runKind as string, n: taskN, heldout: _heldout, ...own } = stage.data as Record<string, unknown> & { kind?: string; n?: number }
      const plugin = datasets[kind]
      if (plugin === undefined) throw configError(`${at}: ${where}.data.kind: unknown dataset '${kind}'; expected one of ${Object.keys(datasets).join(', ')}`)
      if (plugin.modality !== run.info.modality) throw configError(`${at}: ${where}.data.kind: '${kind}' gives ${plugin.modality}, but the run's data are ${run.info.modality}`)
      // The run's parameters carry over only to the same dataset.
      const merged = kind === runKind ? { ...runParams, ...own } : own
      const parsed = plugin.params.safeParse(merged)
      if (!parsed.success) throw configError(formatIssues(parsed.error.issues, at, [where, 'data'], { input: merged, schema: plugin.params, extraKeys: ['kind', 'module', 'n'] }))
      const limits = await taskData(async () => plugin.limits?.(parsed.data), `${at}: ${where}`)
      // By default as many as the run trains on, or all that a smaller task pool (a file) holds.
      const n = taskN ?? Math.min(run.n, limits?.n ?? Infinity)
      if (limits !== undefined && n > limits.n) throw configError(`${at}: ${where}.data.n: ${n} task items is more than the ${limits.n} this task's data hold`)
      const heldout = heldoutSize(stage.heldout, limits?.heldout)
      if (limits?.heldout !== undefined && heldout > limits.heldout) {
        throw configError(`${at}: ${where}.heldout: ${heldout} held-out task items is more than the ${limits.heldout} this task's data set aside`)
      }
      const { params, info } = await taskData(async () => {
        const params = plugin.pin?.(parsed.data) ?? parsed.data
        return { params, info: (await plugin.create(params, Rng.from(0, 'probe'))).info }
      }, `${at}: ${where}`)
      if (info.d !== undefined && run.info.d !== undefined && info.d !== run.info.d) {
        throw configError(`${at}: ${where}.data: the task's data have ${info.d} dimension${info.d === 1 ? '' : 's'}, the run's ${run.info.d}`, "finetune on data of the run's dimension")
      }
      // The chains read the task's text in the run's words, those the run's vocabulary lacks as '<unk>'.
      const known = run.info.vocabulary === undefined || run.info.vocabulary.includes(UNKNOWN_WORD) ? undefined : new Set(run.info.vocabulary)
      const lacking = known === undefined ? undefined : info.vocabulary?.find((w) => !known.has(w))
      if (lacking !== undefined) {
        throw configError(`${at}: ${where}.data: the task has words the run's data do not ('${lacking}'), and no '${UNKNOWN_WORD}' to read them as`, "finetune on the run's own data restricted (e.g. by categories), or use data with '<unk>' (brown, text-file)")
      }
      tasks.push({ stage: i, datasetModule, datasetKind: kind, datasetParams: params as Record<string, unknown>, n, heldout })
      continue
    }
    if (stage.reward.kind === 'proxy') {
      // Ensemble settings that a single reward model, or another combination, would drop unsaid.
      const { members, combine, variancePenalty } = stage.reward
      if (members === 1 && combine !== 'mean') throw configError(`${at}: ${where}.reward.combine: '${combine}' combines an ensemble's members, and members is 1`, 'give members (2 or more), or leave combine out')
      if (combine !== 'uwo' && variancePenalty !== 1) throw configError(`${at}: ${where}.reward.variancePenalty: weighs the members' variance under combine 'uwo' only, and combine is '${combine}'`, "give combine 'uwo', or leave variancePenalty out")
    }
    try {
      await goldReward(goldOf(stage.reward), run.info, `${where}.reward${stage.reward.kind === 'proxy' ? '.of' : ''}`)
    } catch (err) {
      const e = toOuroborosError(err)
      throw configError(`${at}: ${e.message}`, e.hint)
    }
    if (stage.kind === 'rl') {
      // A model that neither way trains is among the config's problems (stageModelProblems).
      const method = rlMethod(model, stage.method) as RlMethod
      const problems = rlSettingsProblems(stage, method, otherRlWay(model, method))
      if (problems.length > 0) throw configError(problems.map((p) => `${at}: ${where}.${p}`).join('\n'))
      // Each refit fits the model to the step's draws, which must hold the model's minimum.
      const draws = stage.samples ?? run.samplesPerGeneration
      const minimum = run.minimumRows
      if (method === 'refit' && minimum !== undefined && draws < minimum.rows) {
        throw configError(
          `${at}: ${where}.samples: ${minimum.what} needs at least ${minimum.rows} training rows, but each refit of this stage fits ${draws} draws${stage.samples === undefined ? ' (samplesPerGeneration)' : ''}`,
          `raise ${where}.samples${minimum.param === undefined ? '' : `, or lower model.${minimum.param}`}`,
        )
      }
    }
  }
  return tasks
}

/** Reading a task's data: an error the dataset names as the run's (`data.path: ...`) named as the stage's. */
async function taskData<T>(read: () => Promise<T>, where: string): Promise<T> {
  try {
    return await read()
  } catch (err) {
    const e = toOuroborosError(err)
    throw configError(`${where}.${e.message.startsWith('data.') ? e.message : `data: ${e.message}`}`, e.hint)
  }
}

/**
 * What keeps each stage of `stages` (as given: the rest of a stage may not parse yet) from training
 * this model: a finetuning stage needs a trainer, DPO a trainer of signed weights, RL one of its
 * two ways. Said with the config's other problems, so that the one that decides the stage's kind
 * does not wait for its keys to be mended.
 */
export async function stageModelProblems(stages: unknown, model: ModelPlugin<any, any>): Promise<Problem[]> {
  if (!Array.isArray(stages)) return []
  const { dpoSupport, rlMethod, rewardSamplesProblem } = await import('@ouroboros/posttrain')
  const problems: Problem[] = []
  for (const [i, stage] of stages.entries()) {
    const kind: unknown = typeof stage === 'object' && stage !== null ? (stage as Record<string, unknown>)['kind'] : undefined
    if (kind === 'finetune' && model.trainer === undefined) {
      problems.push({ path: `posttrain.${i}.kind`, message: `model '${model.id}' cannot be finetuned (it has no trainer); \`ouroboros list\` says which models can` })
    } else if (kind === 'dpo') {
      const support = dpoSupport(model)
      if (support !== true) problems.push({ path: `posttrain.${i}.kind`, message: support })
    } else if (kind === 'rl') {
      const asked = (stage as Record<string, unknown>)['method']
      const method = rlMethod(model, asked === 'policy-gradient' || asked === 'refit' ? asked : 'auto')
      if (method !== 'policy-gradient' && method !== 'refit') problems.push({ path: `posttrain.${i}.method`, message: method })
    }
    const reward = rewardModalityProblem((stage as Record<string, unknown> | undefined)?.['reward'], `posttrain.${i}.reward`, model, rewardSamplesProblem)
    if (reward !== undefined) problems.push(reward)
  }
  return problems
}

/**
 * A reward (or a reward model's gold reward) of samples the model does not make, said with the
 * stage's key problems: mending a reward's keys first (a 'modes' reward's values on text) would
 * be wasted.
 */
function rewardModalityProblem(reward: unknown, at: string, model: ModelPlugin<any, any>, problemOf: (kind: string, modality: Modality, source: string) => string | undefined): Problem | undefined {
  if (typeof reward !== 'object' || reward === null) return undefined
  const { kind, of } = reward as Record<string, unknown>
  if (kind === 'proxy') return rewardModalityProblem(of, `${at}.of`, model, problemOf)
  const message = typeof kind === 'string' ? problemOf(kind, model.modality, `model '${model.id}' makes`) : undefined
  return message === undefined ? undefined : { path: `${at}.kind`, message }
}
