import { runCpuDeterminism } from '@ouroboros/testkit'
import { model } from './index.js'

runCpuDeterminism(model, { epochs: 2, hidden: [8, 8], batch: 50 })
