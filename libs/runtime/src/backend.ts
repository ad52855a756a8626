import * as tf from '@tensorflow/tfjs-core';
import { registerMissingKernels } from './kernels.ts';
import { UserError } from './errors.ts';
import { findData } from './paths.ts';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendReport {
  /** the tfjs backend that runs: 'tensorflow', 'wasm' or 'cpu' */
  backend: string;
  /** the npm package that provided it */
  package: string;
  requested: BackendChoice;
  /** why earlier candidates were skipped */
  skipped: string[];
  simd?: boolean;
  threads?: number;
  addedKernels: string[];
}

let current: BackendReport | undefined;

/** The backend chosen by `--backend`, else BIORE_BACKEND, else auto. */
export function backendChoice(flag?: string): BackendChoice {
  const v = (flag ?? process.env.BIORE_BACKEND ?? 'auto').toLowerCase();
  if (v === 'auto' || v === 'tensorflow' || v === 'wasm' || v === 'cpu') return v;
  throw new UserError(`unknown backend '${v}': expected auto, tensorflow, wasm or cpu`);
}

async function tryTensorflow(skipped: string[]): Promise<string | undefined> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      if (await tf.setBackend('tensorflow')) return pkg;
      skipped.push(`${pkg}: loaded but the tensorflow backend did not initialise`);
    } catch (e) {
      skipped.push(`${pkg}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return undefined;
}

/**
 * Chooses the tfjs backend: tensorflow (tfjs-node-gpu, then tfjs-node), else wasm, else cpu.
 * Idempotent: later calls return the first report.
 */
export async function initBackend(choice: BackendChoice | string = backendChoice()): Promise<BackendReport> {
  if (current) return current;
  const requested = backendChoice(choice);
  const skipped: string[] = [];
  let pkg: string | undefined;
  if (requested === 'auto' || requested === 'tensorflow') {
    pkg = await tryTensorflow(skipped);
    if (!pkg && requested === 'tensorflow') {
      throw new UserError(`backend 'tensorflow' requested but unavailable (${skipped.join('; ')}); install @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node`);
    }
  }
  if (!pkg && (requested === 'auto' || requested === 'wasm')) {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      if (await tf.setBackend('wasm')) pkg = '@tensorflow/tfjs-backend-wasm';
      else skipped.push('@tensorflow/tfjs-backend-wasm: did not initialise');
    } catch (e) {
      skipped.push(`@tensorflow/tfjs-backend-wasm: ${(e as Error).message.split('\n')[0]}`);
    }
    if (!pkg && requested === 'wasm') throw new UserError(`backend 'wasm' requested but unavailable (${skipped.join('; ')})`);
  }
  if (!pkg) {
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    pkg = '@tensorflow/tfjs-backend-cpu';
  }
  await tf.ready();
  const backend = tf.getBackend();
  const report: BackendReport = { backend, package: pkg, requested, skipped, addedKernels: registerMissingKernels(backend) };
  if (backend === 'wasm') {
    report.simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    report.threads = wasm.getThreadsCount();
  }
  current = report;
  return report;
}

export function backendReport(): BackendReport | undefined {
  return current;
}

/** The backend's own rate on a large square matmul, in GFLOP/s: the ceiling benchmarks compare with. */
export function measureMatmulRate(n = 1024, seconds = 1.5): number {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  // no tf.tidy returning the values here: tidy walks a returned container element by element looking for
  // tensors, which on a 1M-element array costs ~10x the matmul itself
  const once = () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  once();
  let iters = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    once();
    iters++;
  }
  const s = (performance.now() - t0) / 1000;
  a.dispose();
  b.dispose();
  return (2 * n * n * n * iters) / s / 1e9;
}

/**
 * What every app does first: start the backend and print it, with the data root a dataset folder `rel`
 * (e.g. 'chemprot') is read from when one is given.
 */
export async function startBackend(flag?: string, data?: { rel: string; flag?: string }): Promise<BackendReport> {
  const report = await initBackend(backendChoice(flag));
  const root = data ? findData(data.rel, data.flag).root : undefined;
  process.stderr.write(`backend: ${report.backend} (${report.package}${report.simd !== undefined ? `, simd ${report.simd}, threads ${report.threads}` : ''})` +
    (root ? `; data root: ${root.root} (${root.source})` : '') + '\n');
  return report;
}
