import { describe, expect, it } from 'vitest'
import { anchorPaths } from './extensions.js'

describe('anchorPaths', () => {
  it('makes every relative plug-in module and file path of a config absolute, where run.json keeps it for a resume', () => {
    const raw = {
      data: { kind: 'shifted', module: './data.mjs', path: 'rows.csv' },
      model: { command: ['python3', 'model.py'] },
      policy: { kind: 'window', module: './window.mjs', k: 2 },
      filter: { kind: 'radius', module: '../filters/radius.mjs' },
      metrics: ['moments', { module: './spread.mjs' }],
      posttrain: [{ kind: 'finetune', steps: 2, data: { kind: 'shifted', module: './task.mjs', path: 'task.csv' } }],
      sweep: {
        policy: [{ kind: 'replace' }, { kind: 'window', module: './window.mjs', k: 3 }],
        'filter.module': ['./a.mjs', '@lab/filters'],
        model: [{ kind: 'gaussian' }, { command: ['python3', 'other.py'], cwd: 'py' }],
        'posttrain.0.data.path': ['t1.csv', '/abs/t2.csv'],
        'posttrain.0.data': [{ kind: 'text-file', path: 't3.txt' }],
        'posttrain.1': [{ kind: 'finetune', steps: 2, data: { kind: 'text-file', path: 't4.txt' } }],
        metrics: [['moments'], [{ module: './spread.mjs' }]],
        generations: [2, 3],
      },
    }
    expect(anchorPaths(raw, '/lab/configs')).toEqual({
      data: { kind: 'shifted', module: '/lab/configs/data.mjs', path: '/lab/configs/rows.csv' },
      model: { kind: 'command', command: ['python3', 'model.py'], cwd: '/lab/configs' },
      policy: { kind: 'window', module: '/lab/configs/window.mjs', k: 2 },
      filter: { kind: 'radius', module: '/lab/filters/radius.mjs' },
      metrics: ['moments', { module: '/lab/configs/spread.mjs' }],
      posttrain: [{ kind: 'finetune', steps: 2, data: { kind: 'shifted', module: '/lab/configs/task.mjs', path: '/lab/configs/task.csv' } }],
      sweep: {
        policy: [{ kind: 'replace' }, { kind: 'window', module: '/lab/configs/window.mjs', k: 3 }],
        // A package name is looked up from the config's folder when resolved, not made a path.
        'filter.module': ['/lab/configs/a.mjs', '@lab/filters'],
        model: [{ kind: 'gaussian' }, { kind: 'command', command: ['python3', 'other.py'], cwd: '/lab/configs/py' }],
        'posttrain.0.data.path': ['/lab/configs/t1.csv', '/abs/t2.csv'],
        'posttrain.0.data': [{ kind: 'text-file', path: '/lab/configs/t3.txt' }],
        'posttrain.1': [{ kind: 'finetune', steps: 2, data: { kind: 'text-file', path: '/lab/configs/t4.txt' } }],
        metrics: [['moments'], [{ module: '/lab/configs/spread.mjs' }]],
        generations: [2, 3],
      },
    })
  })
})
