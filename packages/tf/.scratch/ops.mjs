import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const tf = await import('@tensorflow/tfjs')
const wasm = await import('@tensorflow/tfjs-backend-wasm')
wasm.setWasmPaths(require.resolve('@tensorflow/tfjs-backend-wasm').replace(/[^/]*$/, ''))
const backend = process.argv[2] ?? 'wasm'
await tf.setBackend(backend); await tf.ready()
const time = (name, n, f) => { for (let i=0;i<50;i++) f(); const t0=performance.now(); for (let i=0;i<n;i++) f(); console.log(name, ((performance.now()-t0)/n*1000).toFixed(1), 'us') }
const a = tf.randomNormal([128,2]), b = tf.randomNormal([128,2])
time('add 128x2', 5000, () => tf.add(a,b).dispose())
const x = tf.randomNormal([128,128]), w = tf.randomNormal([128,128]), bias = tf.randomNormal([128])
time('matmul 128^3', 2000, () => tf.matMul(x,w).dispose())
time('fused matmul+bias+relu', 2000, () => tf.fused.matMul({a:x,b:w,bias,activation:'relu'}).dispose())
time('tensor2d from f32 256', 5000, () => tf.tensor2d(new Float32Array(256), [128,2]).dispose())
time('tidy empty', 5000, () => tf.tidy(() => {}))
const v = tf.variable(tf.randomNormal([128,128]))
time('assign', 5000, () => v.assign(w))
time('dataSync 128x128', 2000, () => x.dataSync())
