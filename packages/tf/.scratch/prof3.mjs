import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const tf = await import('@tensorflow/tfjs')
const wasm = await import('@tensorflow/tfjs-backend-wasm')
wasm.setWasmPaths(require.resolve('@tensorflow/tfjs-backend-wasm').replace(/[^/]*$/, ''))
await tf.setBackend('wasm'); await tf.ready()
if (process.env.PATCH) (await import('./patch.mjs')).patchMatMul(tf, 'wasm')
const time = (name, n, f) => { for (let i=0;i<20;i++) f(); let best=1e9; for (let r=0;r<7;r++){const t0=performance.now(); for (let i=0;i<n/5;i++) f(); best=Math.min(best,(performance.now()-t0)/(n/5))} console.log(name.padEnd(40), (best*1000).toFixed(1), "us") }
const B=128,H=128
let x = tf.randomNormal([B,H]), w = tf.randomNormal([H,H]), dy=tf.randomNormal([B,H])
time('mm fresh both', 300, () => { const a=tf.clone(x), b=tf.clone(w); tf.matMul(a,b).dispose(); a.dispose(); b.dispose() })
time('mm fresh both ta', 300, () => { const a=tf.clone(x), b=tf.clone(w); tf.matMul(a,b,true,false).dispose(); a.dispose(); b.dispose() })
time('mm fresh both tb', 300, () => { const a=tf.clone(x), b=tf.clone(w); tf.matMul(a,b,false,true).dispose(); a.dispose(); b.dispose() })
const h = tf.randomNormal([B,H]), d4 = tf.randomNormal([B,4])
time('mm h^T d4 ', 300, () => { const a=tf.clone(h), b=tf.clone(d4); tf.matMul(a,b,true,false).dispose(); a.dispose(); b.dispose() })
time('mm h d4-as-weights', 300, () => { const b=tf.randomNormal([H,4]); tf.matMul(h,b).dispose(); b.dispose() })
time('randomNormal H,4', 300, () => { tf.randomNormal([H,4]).dispose() })
time('mm 3d', 300, () => { const a=tf.clone(x).reshape([1,B,H]), b=tf.clone(w).reshape([1,H,H]); tf.matMul(a,b).dispose(); a.dispose(); b.dispose() })
