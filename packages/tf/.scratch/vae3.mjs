import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const tf = await import('@tensorflow/tfjs')
const wasm = await import('@tensorflow/tfjs-backend-wasm')
wasm.setWasmPaths(require.resolve('@tensorflow/tfjs-backend-wasm').replace(/[^/]*$/, ''))
await tf.setBackend(process.argv[2] ?? 'wasm'); await tf.ready()
;(await import('./patch.mjs')).patchMatMul(tf, tf.getBackend())
const N = 10000, B = 128, H = 128, L = 2, STEPS = 300
const X = new Float32Array(N*2); for (let i=0;i<N;i++){const t=2*Math.PI*(i%8)/8; X[2*i]=2*Math.cos(t)+0.02*(Math.random()-0.5); X[2*i+1]=2*Math.sin(t)}
// layers: [in,out,relu]
const layers = [[2,H,1],[H,H,1],[H,2*L,0],[L,H,1],[H,H,1],[H,2,0]]
const offs = []; let P = 0; for (const [i,o] of layers) { offs.push(P); P += (i+1)*o }
const flat = new Float32Array(P); for (let i=0;i<P;i++) flat[i]=(Math.random()-0.5)*0.2
const xt = tf.tensor2d(X,[N,2])
const perm = new Int32Array(N); for(let i=0;i<N;i++)perm[i]=i
const m1=new Float32Array(P), v1=new Float32Array(P); let t=0
const ones = tf.ones([1,B])
const s2 = 0.01
function dense(x, k) { const [i,o,relu] = layers[k]; const W = tf.tensor2d(flat.subarray(offs[k], offs[k]+i*o), [i,o]); const b = tf.tensor1d(flat.subarray(offs[k]+i*o, offs[k]+(i+1)*o)); return { W, y: tf.fused.matMul({a:x, b:W, bias:b, activation: relu ? 'relu':'linear'}) } }
// returns [dW;db] block and dx
function back(x, W, y, dy, relu, needDx) {
  const d = relu ? tf.mul(dy, tf.step(y)) : dy
  const g = tf.matMul(tf.concat([tf.transpose(x), ones], 0), d)
  return { g, dx: needDx ? tf.matMul(d, W, false, true) : null }
}
const step = globalThis.__step = (k) => {
  const gflat = tf.tidy(() => {
    const idx = tf.tensor1d(perm.subarray((k*B)%(N-B), (k*B)%(N-B)+B),'int32')
    const xb = tf.gather(xt, idx)
    const eps = tf.tensor2d(new Float32Array(B*L).map(()=>Math.random()-0.5),[B,L])
    const e1 = dense(xb,0), e2 = dense(e1.y,1), e3 = dense(e2.y,2)
    const [mu, lv] = tf.split(e3.y, 2, 1)
    const sd = tf.exp(tf.mul(lv, 0.5))
    const z = tf.add(mu, tf.mul(eps, sd))
    const d1 = dense(z,3), d2 = dense(d1.y,4), d3 = dense(d2.y,5)
    const diff = tf.sub(d3.y, xb)
    // loss for NaN check
    const ev = tf.exp(lv)
    const loss = tf.add(tf.mul(tf.sum(tf.square(diff)), 0.5/s2/B), tf.mul(tf.sum(tf.sub(tf.add(tf.square(mu), ev), tf.add(lv,1))), 0.5/B))
    const dm = tf.mul(diff, 1/s2/B)
    const b6 = back(d2.y, d3.W, d3.y, dm, 0, true)
    const b5 = back(d1.y, d2.W, d2.y, b6.dx, 1, true)
    const b4 = back(z, d1.W, d1.y, b5.dx, 1, true)
    const dz = b4.dx
    const dmu = tf.add(dz, tf.mul(mu, 1/B))
    const dlv = tf.add(tf.mul(tf.mul(dz, tf.mul(eps, sd)), 0.5), tf.mul(tf.sub(ev, 1), 0.5/B))
    const b3 = back(e2.y, e3.W, e3.y, tf.concat([dmu, dlv], 1), 0, true)
    const b2 = back(e1.y, e2.W, e2.y, b3.dx, 1, true)
    const b1 = back(xb, e1.W, e1.y, b2.dx, 1, false)
    return tf.concat([b1.g, b2.g, b3.g, b4.g, b5.g, b6.g].map(g => g.reshape([-1])).concat([loss.reshape([1])]))
  })
  const gd = gflat.dataSync(); gflat.dispose()
  if (!Number.isFinite(gd[P])) throw new Error('nan')
  t++; const b1=0.9,b2=0.999,lr=1e-3; const c1=1-b1**t, c2=1-b2**t; const a=lr*Math.sqrt(c2)/c1
  for(let i=0;i<P;i++){const gi=gd[i]; const mi=m1[i]=b1*m1[i]+(1-b1)*gi; const vi=v1[i]=b2*v1[i]+(1-b2)*gi*gi; flat[i]-=a*mi/(Math.sqrt(vi)+1e-8*Math.sqrt(c2))}
}
for(let k=0;k<30;k++)step(k)
let best = 1e9
for (let r=0;r<5;r++){ const c0=process.cpuUsage(); const t0=performance.now(); for(let k=0;k<STEPS/5;k++)step(k); const c=process.cpuUsage(c0); best=Math.min(best,(c.user+c.system)/1000/(STEPS/5)); }
console.log(tf.getBackend(), 'cpu ms/step', best.toFixed(3), (best*1580/1000).toFixed(2),'s/gen', tf.memory().numTensors, 'P', P)
if (process.env.PROF) {
  const prof = await tf.profile(() => { for (let k=0;k<20;k++) step(k) })
  const agg = {}
  for (const k of prof.kernels) { const key = k.name + ' ' + JSON.stringify(k.inputShapes); agg[key] ??= [0,0]; agg[key][0]+= k.kernelTimeMs; agg[key][1]++ }
  const rows = Object.entries(agg).sort((a,b)=>b[1][0]-a[1][0]).slice(0,20)
  for (const [k,[t,c]] of rows) console.log((t/20).toFixed(3).padStart(8), 'ms/step', String(c/20).padStart(4), k)
  console.log('kernels per step', prof.kernels.length/20)
}
