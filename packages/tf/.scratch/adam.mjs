const P = 34566
const flat = new Float32Array(P), m1=new Float32Array(P), v1=new Float32Array(P), gd=new Float32Array(P).map(()=>Math.random()-0.5)
let t=0
function adam(){ t++; const b1=0.9,b2=0.999,lr=1e-3; const c1=1-b1**t, c2=1-b2**t; const a=lr*Math.sqrt(c2)/c1; const e=1e-8*Math.sqrt(c2)
  for(let i=0;i<P;i++){const gi=gd[i]; const mi=m1[i]=b1*m1[i]+(1-b1)*gi; const vi=v1[i]=b2*v1[i]+(1-b2)*gi*gi; flat[i]-=a*mi/(Math.sqrt(vi)+e)} }
for (let i=0;i<200;i++) adam()
let best=1e9; for (let r=0;r<5;r++){const c0=process.cpuUsage(); for (let i=0;i<200;i++) adam(); const c=process.cpuUsage(c0); best=Math.min(best,(c.user+c.system)/200)}
console.log('adam us', best.toFixed(1))
