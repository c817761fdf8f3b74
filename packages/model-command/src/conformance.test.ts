import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { vectors } from '@ouroboros/core'
import { runModelConformance } from '@ouroboros/testkit'
import { model } from './index.js'

// Debian's python3 is the one .ci/run installs numpy for.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
const GAUSSIAN = fileURLToPath(new URL('../examples/gaussian/gaussian_model.py', import.meta.url))

runModelConformance(model, {
  params: { command: [PYTHON, GAUSSIAN] },
  data: (rng) => vectors(200, 3, rng.fillNormal(new Float64Array(600), 1, 2)),
  dataset: { kind: 'gaussian', modality: 'vectors', d: 3, gaussian: { mean: 1, std: 2 } },
  badParams: [
    { params: { command: [] }, field: 'command' },
    { params: { command: 'python3 model.py' }, field: 'command' },
    { params: { command: [PYTHON, GAUSSIAN], timeoutMs: 0 }, field: 'timeoutMs' },
  ],
})
