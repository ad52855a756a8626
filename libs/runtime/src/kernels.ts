import * as tf from '@tensorflow/tfjs-core';
import { installFastWasmSlice } from './wasm-slice.ts';
// tfjs-core's node build registers no gradients; the union package's build does (into the global registry).
import '@tensorflow/tfjs';

/**
 * Kernels the wasm backend lacks but training needs, registered once here.
 *
 * UnsortedSegmentSum is what the gradient of tf.gather calls (embedding lookups). tfjs-core's
 * gather gradient passes 1-D segment ids of length N and data of shape [N, ...], which is exactly
 * ScatterNd with indices [N, 1] (ScatterNd sums duplicate indices), a kernel wasm does have.
 */
export function registerMissingKernels(backendName: string): string[] {
  const added: string[] = [];
  if (backendName !== 'wasm') return added;
  if (!tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    const reshape = tf.getKernel('Reshape', 'wasm')!.kernelFunc;
    const scatterNd = tf.getKernel('ScatterNd', 'wasm')!.kernelFunc;
    const cast = tf.getKernel('Cast', 'wasm')!.kernelFunc;
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
        const { numSegments } = attrs as unknown as { numSegments: number };
        const n = segmentIds.shape.reduce((a, b) => a * b, 1);
        if (x.shape[0] !== n || segmentIds.shape.length !== 1) {
          throw new Error(`UnsortedSegmentSum on wasm supports 1-D segment ids matching data's first dimension; got ids [${segmentIds.shape}] and data [${x.shape}]`);
        }
        const ids32 = segmentIds.dtype === 'int32' ? segmentIds : (cast({ inputs: { x: segmentIds }, backend, attrs: { dtype: 'int32' } }) as tf.TensorInfo);
        const indices = reshape({ inputs: { x: ids32 }, backend, attrs: { shape: [n, 1] } }) as tf.TensorInfo;
        const out = scatterNd({ inputs: { indices, updates: x }, backend, attrs: { shape: [numSegments, ...x.shape.slice(1)] } }) as tf.TensorInfo;
        (backend as any).disposeData(indices.dataId);
        if (ids32 !== segmentIds) (backend as any).disposeData(ids32.dataId);
        return out;
      },
    });
    added.push('UnsortedSegmentSum');
  }
  // not missing but pathologically slow: wasm's Slice copies its whole input per call (T² for per-step slices)
  if (installFastWasmSlice()) added.push('Slice (heap view)');
  return added;
}
