import type { ModelPlugin, OutputInfoTable } from '@ouroboros/core'
import { builtinFilters, builtinPolicies, FILTER_OUTPUT_INFO, loadModel } from '@ouroboros/scheduler'
import { builtinDatasets, builtinModelModule, builtinModels, metricsModule, moduleUrl } from './registry.js'

/** `ouroboros list`: what this installation can run. */
export async function listCommand(): Promise<number> {
  const out: string[] = ['models (model.kind):']
  const stages: string[] = []
  const { dpoSupport, rlMethod } = await import('@ouroboros/posttrain')
  for (const [kind, spec] of Object.entries(builtinModels)) {
    const model = await loadModel(moduleUrl(spec, '.'))
    // `command` has a second entry for text data, the same model given sentences.
    const onText = builtinModelModule(kind, 'tokens')
    const modalities = onText !== spec ? `${model.modality} or ${(await loadModel(moduleUrl(onText!, '.'))).modality}` : model.modality
    const extras = [modalities, ...(model.usesTfjs ? ['tfjs'] : []), model.acceptsTemperature ? 'sampling.temperature: yes' : 'sampling.temperature: no', `${model.modality === 'tokens' ? 'perplexity_real' : onText !== spec ? 'nll_real and perplexity_real' : 'nll_real'}: ${model.logLikelihood ? 'yes' : 'no'}`, ...(model.fitRows ? ['large training sets read from disk'] : [])]
    out.push(`  ${kind.padEnd(12)} ${model.description} [${extras.join('; ')}]`)
    stages.push(`  ${kind.padEnd(12)} ${posttrainAbilities(model, rlMethod, dpoSupport).join('; ')}`)
  }
  out.push('post-training stages (posttrain: finetune, rl, dpo, best-of-n) by model:', ...stages)
  out.push('datasets (data.kind):')
  for (const [kind, ds] of Object.entries(await builtinDatasets())) out.push(`  ${kind.padEnd(12)} ${ds.description} [${ds.modality}]`)
  out.push('metric groups (metrics):')
  const { builtinMetrics } = await metricsModule()
  for (const [id, m] of Object.entries(builtinMetrics)) out.push(`  ${id.padEnd(20)} ${m.outputs.join(', ')} [${[m.modality, ...(m.cost === 'expensive' ? ['expensive: runs only when named'] : [])].join('; ')}]`)
  out.push('policies (policy.kind):')
  for (const [kind, policy] of Object.entries(builtinPolicies)) out.push(`  ${kind.padEnd(22)} ${policy.description}`)
  out.push('filters (filter.kind):')
  for (const [kind, filter] of Object.entries(builtinFilters)) out.push(`  ${kind.padEnd(22)} ${filter.description}`)
  // What a run records besides the groups' outputs, in the same record files and report: the
  // post-training stages' and the filters' own values, from the tables the run records them by.
  const { POSTTRAIN_OUTPUT_INFO } = await import('@ouroboros/posttrain')
  out.push("other values a run records, beside the metric groups' outputs:")
  const values = (table: OutputInfoTable | undefined, where: string) => {
    for (const [name, info] of Object.entries(table ?? {})) out.push(`  ${name.padEnd(20)} ${info.title}${info.unit === undefined ? '' : ` (${info.unit})`} [${where}]`)
  }
  values(POSTTRAIN_OUTPUT_INFO, 'with posttrain stages')
  values(FILTER_OUTPUT_INFO, 'with any filter')
  for (const [kind, filter] of Object.entries(builtinFilters)) values(filter.outputInfo, `with filter ${kind}`)
  out.push('backends:')
  out.push('  classical models: typed arrays in worker threads')
  const { describeBackend, formatBackend } = await import('@ouroboros/tf')
  // The line below says it; the stderr notice would repeat it.
  out.push(`  models on tfjs: ${formatBackend(await describeBackend({ announce: false }))}`)
  process.stdout.write(out.join('\n') + '\n')
  return 0
}

/** Which post-training stages a model can run, and how. */
function posttrainAbilities(model: ModelPlugin<any, any>, rlMethod: (m: ModelPlugin<any, any>, asked: 'auto') => string, dpoSupport: (m: ModelPlugin<any, any>) => true | string): string[] {
  const rl = rlMethod(model, 'auto')
  return [
    `finetune: ${model.trainer === undefined ? 'no' : 'yes'}`,
    `rl: ${rl === 'policy-gradient' ? 'policy gradient' : rl === 'refit' ? 'reward-weighted refitting' : 'no'}${model.policyGradient === 'when-asked' && rl === 'refit' ? ", or policy gradient with method 'policy-gradient'" : ''}`,
    // A model in another process says whether its trainer takes signed weights only when it runs.
    `dpo: ${dpoSupport(model) !== true ? 'no' : model.policyGradient === 'when-asked' ? 'where its train_step takes signed weights' : 'yes'}`,
    'best-of-n: yes',
  ]
}
