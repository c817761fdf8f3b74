export function patchMatMul(tf, backendName) {
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const orig = tf.getKernel(name, backendName)
    const transpose = tf.getKernel('Transpose', backendName)
    tf.unregisterKernel(name, backendName)
    tf.registerKernel({ ...orig, kernelFunc: (args) => {
      const { inputs, backend, attrs } = args
      if (!attrs.transposeA && !attrs.transposeB) return orig.kernelFunc(args)
      const tmp = []
      const t = (x) => { const r = x.shape.length; const perm = [...Array(r).keys()]; perm[r-1]=r-2; perm[r-2]=r-1; const y = transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } }); tmp.push(y); return y }
      const a = attrs.transposeA ? t(inputs.a) : inputs.a
      const b = attrs.transposeB ? t(inputs.b) : inputs.b
      const out = orig.kernelFunc({ inputs: { ...inputs, a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } })
      for (const x of tmp) backend.disposeData(x.dataId)
      return out
    }})
  }
}
