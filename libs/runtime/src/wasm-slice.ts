import * as tf from '@tensorflow/tfjs-core';

/**
 * The wasm backend's Slice (and so Unpack, Split, StridedSlice on dim 0) copies the WHOLE input out of the wasm
 * heap (readSync) before taking the slice, so taking T per-step slices of a [T, B, 4H] tensor costs T² copies.
 * This replacement reads through a heap view instead, copying only the slice. Same results; numeric types only
 * (string tensors go to the original kernel). Registered once by registerMissingKernels when wasm is chosen.
 */
let installed = false;

export function installFastWasmSlice(): boolean {
  if (installed || tf.getBackend() !== 'wasm') return installed;
  const original = tf.getKernel('Slice', 'wasm');
  if (!original) return false;
  const originalFunc = original.kernelFunc;
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({
    kernelName: 'Slice',
    backendName: 'wasm',
    kernelFunc: (args) => {
      const { inputs } = args;
      const attrs = args.attrs as unknown as { begin: number[]; size: number[] };
      const backend = args.backend as unknown as {
        makeOutput(shape: number[], dtype: string): tf.TensorInfo;
        typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
      };
      const x = inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return originalFunc(args);
      const [begin, size] = tf.slice_util.parseSliceParams(x as never, attrs.begin, attrs.size);
      const out = backend.makeOutput(size, x.dtype);
      const n = size.reduce((a, b) => a * b, 1);
      if (n === 0) return out;
      // views taken after makeOutput: allocation may grow (and so detach) the heap buffer
      const src = backend.typedArrayFromHeap(x);
      const dst = backend.typedArrayFromHeap(out);
      const rank = x.shape.length;
      const strides = new Array(rank).fill(1);
      for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * x.shape[i + 1];
      if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
        const off = tf.slice_util.computeFlatOffset(begin, strides);
        dst.set(src.subarray(off, off + n));
        return out;
      }
      // copy runs of the innermost dimension, walking the outer indices like an odometer
      const run = size[rank - 1];
      const idx = new Array(rank - 1).fill(0);
      let o = 0;
      for (;;) {
        let s = begin[rank - 1];
        for (let d = 0; d < rank - 1; d++) s += (begin[d] + idx[d]) * strides[d];
        if (run > 8) dst.set(src.subarray(s, s + run), o);
        else for (let k = 0; k < run; k++) dst[o + k] = src[s + k];
        o += run;
        let d = rank - 2;
        while (d >= 0 && ++idx[d] === size[d]) idx[d--] = 0;
        if (d < 0) break;
      }
      return out;
    },
  });
  installed = true;
  return true;
}
