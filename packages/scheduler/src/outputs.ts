import type { MetricPlugin, OutputInfo, OutputInfoTable } from '@ouroboros/core'
import { optimisesProxy, POSTTRAIN_OUTPUT_INFO, PROXY_REWARD_INFO } from '@ouroboros/posttrain'
import { FILTER_OUTPUT_INFO } from './filters/index.js'
import { loadFilter, loadMetric, loadModel } from './plugins.js'
import type { ChainSpec } from './spec.js'

/**
 * How a report shows each value the chains' records hold, as the plug-ins computing them describe
 * it: their metric groups' outputs, their filter's (filter_kept and its own) and post-training's.
 * Values without a description are left out (a report shows them by name).
 */
export async function recordOutputInfo(chains: readonly ChainSpec[]): Promise<Record<string, OutputInfo>> {
  const out: Record<string, OutputInfo> = {}
  const add = (table: OutputInfoTable | undefined, names?: readonly string[]): void => {
    for (const [name, info] of Object.entries(table ?? {})) if (names === undefined || names.includes(name)) out[name] ??= info
  }
  // The chains of a sweep cell share their groups, filter and stages. A reward that is a proxy in
  // any cell is described as one: its rise is not better there.
  const seen = new Set<number>()
  if (chains.some((chain) => optimisesProxy(chain.config.posttrain))) out['reward'] = PROXY_REWARD_INFO
  for (const chain of chains) {
    if (seen.has(chain.cell)) continue
    seen.add(chain.cell)
    for (const m of chain.metrics) {
      const plugin = await loadMetric(m.module, m.id)
      add(metricOutputInfo(plugin), plugin.outputs)
    }
    if (chain.config.filter !== null) {
      add(FILTER_OUTPUT_INFO)
      add((await loadFilter(chain.config.filter)).outputInfo)
    }
    if (chain.config.posttrain.length > 0) add(POSTTRAIN_OUTPUT_INFO)
  }
  return out
}

/** How a report shows the losses of the chains' models' training curves, as the models describe them. */
export async function recordLossInfo(chains: readonly ChainSpec[]): Promise<Record<string, OutputInfo>> {
  const out: Record<string, OutputInfo> = {}
  for (const module of new Set(chains.map((chain) => chain.modelModule))) {
    for (const [name, info] of Object.entries((await loadModel(module)).lossInfo ?? {})) out[name] ??= info
  }
  return out
}

/** A metric group's output descriptions as run.json records them: with its `nullWhen` reasons folded in. */
export function metricOutputInfo(plugin: Pick<MetricPlugin<unknown, unknown>, 'outputInfo' | 'nullWhen'>): OutputInfoTable | undefined {
  const { outputInfo, nullWhen } = plugin
  if (outputInfo === undefined || nullWhen === undefined) return outputInfo
  return Object.fromEntries(Object.entries(outputInfo).map(([name, info]) => [name, nullWhen[name] === undefined ? info : { ...info, nullWhen: nullWhen[name] }]))
}
