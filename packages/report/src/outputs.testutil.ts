/** The descriptions run.json holds of every built-in output, as `ouroboros run` records them. */
import type { OutputInfoTable } from '@ouroboros/core'
import { builtinMetrics } from '@ouroboros/metrics'
import { POSTTRAIN_OUTPUT_INFO } from '@ouroboros/posttrain'
import { builtinFilters, FILTER_OUTPUT_INFO, metricOutputInfo } from '@ouroboros/scheduler'

/** Every built-in metric group's, filter's and post-training's, from the plug-ins themselves. */
export const BUILTIN_OUTPUT_INFO: OutputInfoTable = Object.assign(
  {},
  ...Object.values(builtinMetrics).map((m) => metricOutputInfo(m)),
  FILTER_OUTPUT_INFO,
  ...Object.values(builtinFilters).map((f) => f.outputInfo),
  POSTTRAIN_OUTPUT_INFO,
)
