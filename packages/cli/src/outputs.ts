import type { OutputInfoTable } from '@ouroboros/core'
import { builtinFilters, FILTER_OUTPUT_INFO, metricOutputInfo } from '@ouroboros/scheduler'
import { metricsModule } from './registry.js'

/**
 * How a report shows every value a built-in plug-in records, for runs whose run.json does not say
 * (runs from before it did): the descriptions of every built-in metric group, filter and
 * post-training, as a new run would record them.
 */
export async function builtinOutputInfo(): Promise<OutputInfoTable> {
  const { builtinMetrics } = await metricsModule()
  const { POSTTRAIN_OUTPUT_INFO } = await import('@ouroboros/posttrain')
  return Object.assign(
    {},
    ...Object.values(builtinMetrics).map((m) => metricOutputInfo(m)),
    FILTER_OUTPUT_INFO,
    ...Object.values(builtinFilters).map((f) => f.outputInfo),
    POSTTRAIN_OUTPUT_INFO,
  ) as OutputInfoTable
}
