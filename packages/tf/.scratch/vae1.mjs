import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const tf = await import('@tensorflow/tfjs')
const wasm = await import('@tensorflow/tfjs-backend-wasm')
wasm.setWasmPaths(require.resolve('@tensorflow/tfjs-backend-wasm').replace(/[^/]*$/, ''))
await tf.setBackend(process.argv[3] ?? 'wasm'); await tf.ready(); if (process.env.PATCH) (await import('./patch.mjs')).patchMatMul(tf, tf.getBackend())
const variant = process.argv[2] ?? 'A'
const N = 10000, B = 128, H = 128, L = 2, STEPS = 400
const X = new Float32Array(N*2); for (let i=0;i<N;i++){const t=2*Math.PI*(i%8)/8; X[2*i]=2*Math.cos(t)+0.02*(Math.random()-0.5); X[2*i+1]=2*Math.sin(t)}
const shapes = [[2,H],[H],[H,H],[H],[H,2*L],[2*L],[L,H],[H],[H,H],[H],[H,2],[2]]
const sizes = shapes.map(s=>s.reduce((a,b)=>a*b,1)); const P = sizes.reduce((a,b)=>a+b)
const flat = new Float32Array(P); for (let i=0;i<P;i++) flat[i]=(Math.random()-0.5)*0.1
const offs=[]; {let o=0; for(const s of sizes){offs.push(o);o+=s}}
const xt = tf.tensor2d(X,[N,2])
const LOGN = Math.log(2*Math.PI*0.01)
function loss(w, xb, eps){
  const h1 = tf.fused.matMul({a:xb,b:w[0],bias:w[1],activation:'relu'})
  const h2 = tf.fused.matMul({a:h1,b:w[2],bias:w[3],activation:'relu'})
  const o = tf.fused.matMul({a:h2,b:w[4],bias:w[5]})
  const [mu, lv] = tf.split(o, 2, 1)
  const z = tf.add(mu, tf.mul(eps, tf.exp(tf.mul(lv,0.5))))
  const g1 = tf.fused.matMul({a:z,b:w[6],bias:w[7],activation:'relu'})
  const g2 = tf.fused.matMul({a:g1,b:w[8],bias:w[9],activation:'relu'})
  const m = tf.fused.matMul({a:g2,b:w[10],bias:w[11]})
  const nll = tf.mul(tf.sum(tf.squaredDifference(xb,m)), 0.5/0.01/B)
  const kl = tf.mul(tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(lv)), tf.add(lv,1))), 0.5/B)
  return tf.add(nll, kl)
}
let t0
const perm = new Int32Array(N); for(let i=0;i<N;i++)perm[i]=i
if (variant==='A') {
  const vars = shapes.map((s,i)=>tf.variable(tf.tensor(flat.subarray(offs[i],offs[i]+sizes[i]), s)))
  const opt = tf.train.adam(1e-3)
  const step = globalThis.__step = (k) => { tf.tidy(()=>{
    const idx = tf.tensor1d(perm.subarray((k*B)%(N-B), (k*B)%(N-B)+B),'int32')
    const xb = tf.gather(xt, idx)
    const eps = tf.tensor2d(new Float32Array(B*L).map(()=>Math.random()-0.5),[B,L])
    const l = opt.minimize(()=>loss(vars,xb,eps), true)
    l.dataSync()
  })}
  for(let k=0;k<50;k++)step(k); t0=performance.now(); for(let k=0;k<STEPS;k++)step(k)
} else {
  const m1=new Float32Array(P), v1=new Float32Array(P); let t=0
  const step = globalThis.__step = (k) => { 
    const g = tf.tidy(()=>{
    const w = shapes.map((s,i)=>tf.tensor(flat.subarray(offs[i],offs[i]+sizes[i]), s))
    const idx = tf.tensor1d(perm.subarray((k*B)%(N-B), (k*B)%(N-B)+B),'int32')
    const xb = tf.gather(xt, idx)
    const eps = tf.tensor2d(new Float32Array(B*L).map(()=>Math.random()-0.5),[B,L])
    const { value, grads } = tf.valueAndGrads((...ws)=>loss(ws,xb,eps))(w)
    value.dataSync()
    return tf.concat(grads.map(g=>g.reshape([-1])))
    })
    const gd = g.dataSync(); g.dispose()
    t++; const b1=0.9,b2=0.999,lr=1e-3; const c1=1-b1**t, c2=1-b2**t; const a=lr*Math.sqrt(c2)/c1
    for(let i=0;i<P;i++){const gi=gd[i]; const mi=m1[i]=b1*m1[i]+(1-b1)*gi; const vi=v1[i]=b2*v1[i]+(1-b2)*gi*gi; flat[i]-=a*mi/(Math.sqrt(vi)+1e-8*Math.sqrt(c2))}
  }
  for(let k=0;k<50;k++)step(k); t0=performance.now(); for(let k=0;k<STEPS;k++)step(k)
}
const ms=(performance.now()-t0)/STEPS
console.log(variant, tf.getBackend(), ms.toFixed(3),'ms/step', (ms*1580/1000).toFixed(2),'s/gen', tf.memory().numTensors)
if (process.env.PROF) {
  const prof = await tf.profile(() => { for (let k=0;k<20;k++) { /* re-run a step */ globalThis.__step(k) } })
  const agg = {}
  for (const k of prof.kernels) { const key = k.name + ' ' + JSON.stringify(k.inputShapes); agg[key] ??= [0,0]; agg[key][0]+= k.kernelTimeMs; agg[key][1]++ }
  const rows = Object.entries(agg).sort((a,b)=>b[1][0]-a[1][0]).slice(0,25)
  for (const [k,[t,c]] of rows) console.log((t/20).toFixed(3).padStart(8), 'ms/step', String(c/20).padStart(4), k)
  console.log('kernels per step', prof.kernels.length/20)
}
