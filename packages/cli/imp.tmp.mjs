let t = performance.now(); await import('commander'); console.log('commander(first)', (performance.now() - t).toFixed(1))
t = performance.now(); await import('zod'); console.log('zod', (performance.now() - t).toFixed(1))
t = performance.now(); await import('zod/mini'); console.log('zod/mini', (performance.now() - t).toFixed(1))
