import { parentPort, workerData } from 'node:worker_threads';
import { trainSlice, type KernelOptions } from './kernel.ts';

/** A Hogwild training thread: the parameter rows live in SharedArrayBuffers shared with the other threads. */
interface Init { rows: SharedArrayBuffer; vocabSize: number; dim: number; path: string; opts: KernelOptions }
const init = workerData as Init;
const params = { vocabSize: init.vocabSize, dim: init.dim, rows: new Float32Array(init.rows) };
parentPort!.on('message', (m: { from: number; to: number }) => {
  let pending = 0;
  const r = trainSlice(params, init.path, m.from, m.to, init.opts, (n) => {
    pending += n;
    if (pending >= 1 << 20) { parentPort!.postMessage({ progress: pending }); pending = 0; }
  });
  if (pending) parentPort!.postMessage({ progress: pending });
  parentPort!.postMessage({ done: true, cost: r.cost, skipped: r.skipped });
});
