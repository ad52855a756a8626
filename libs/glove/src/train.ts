import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Rng, writeFileAtomic, writeJsonAtomic } from '@biore/runtime';
import { RecordReader } from './records.ts';
import { rowStride, trainSlice, type GloveParams, type KernelOptions } from './kernel.ts';

export interface TrainOptions extends KernelOptions {
  dim: number;
  iterations: number;
  threads: number;
  seed: number;
  /** folder for per-iteration checkpoints (params + state); none when absent */
  checkpointDir?: string;
  /** continue from the checkpoint when its key matches */
  resume?: boolean;
  /** identifies the inputs and options; a checkpoint with another key is not resumed */
  key?: string;
  onIteration?: (it: IterationReport) => void;
  onProgress?: (records: number) => void;
}

export interface IterationReport {
  iteration: number;
  cost: number;
  seconds: number;
  records: number;
  skipped: number;
}

/** glove.c's initialisation: weights and biases uniform in ±0.5/(D+1), gradsq 1. A shared buffer so threads can update them. */
export function initParams(vocabSize: number, dim: number, seed: number): GloveParams {
  const R = dim + 1, S = rowStride(dim);
  const rows = new Float32Array(new SharedArrayBuffer(2 * vocabSize * S * 4));
  const rng = new Rng(seed);
  for (let r = 0; r < 2 * vocabSize; r++) {
    for (let k = 0; k < R; k++) rows[r * S + k] = (rng.next() - 0.5) / R;
    rows.fill(1, r * S + R, (r + 1) * S);
  }
  return { vocabSize, dim, rows };
}

/** bumped when the parameter layout changes, so an old checkpoint is never read in a new layout */
const LAYOUT = 'rows: w, b, gradsq(w), gradsq(b)';

interface CheckpointState { key?: string; layout?: string; iteration: number; params: string; history: IterationReport[] }

function loadCheckpoint(dir: string, key: string | undefined, vocabSize: number, dim: number): { params: GloveParams; state: CheckpointState } | undefined {
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) return undefined;
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as CheckpointState;
  if (state.key !== key || state.layout !== LAYOUT) return undefined;
  const raw = readFileSync(join(dir, state.params));
  const params = initParams(vocabSize, dim, 0);
  if (raw.length !== params.rows.byteLength) return undefined;
  new Uint8Array(params.rows.buffer).set(raw);
  return { params, state };
}

function saveCheckpoint(dir: string, p: GloveParams, state: CheckpointState): void {
  const name = `params-${String(state.iteration).padStart(4, '0')}.bin`;
  writeFileAtomic(join(dir, name), new Uint8Array(p.rows.buffer));
  writeJsonAtomic(join(dir, 'state.json'), { ...state, layout: LAYOUT, params: name });
  for (const f of readdirSync(dir)) if (f.startsWith('params-') && f !== name) rmSync(join(dir, f), { force: true });
}

/**
 * glove: AdaGrad over the shuffled co-occurrence file, `iterations` passes, each split into `threads`
 * contiguous slices run in worker threads on shared parameters (threads = 1 runs in this thread and is
 * deterministic). The cost reported per iteration is the mean of ½ f(X)(w·w~ + b + b~ − log X)² over records.
 */
export async function trainGlove(shuffled: string, vocabSize: number, o: TrainOptions): Promise<{ params: GloveParams; history: IterationReport[] }> {
  const records = RecordReader.count(shuffled);
  let params = initParams(vocabSize, o.dim, o.seed);
  let history: IterationReport[] = [];
  if (o.resume && o.checkpointDir) {
    const c = loadCheckpoint(o.checkpointDir, o.key, vocabSize, o.dim);
    if (c) { params = c.params; history = c.state.history; }
  }
  const kopts: KernelOptions = { xMax: o.xMax, alpha: o.alpha, eta: o.eta };
  const threads = Math.max(1, Math.min(o.threads, records || 1));
  const workers: Worker[] = [];
  try {
    if (threads > 1) {
      for (let t = 0; t < threads; t++) {
        workers.push(new Worker(new URL('./train-worker-boot.mjs', import.meta.url), {
          workerData: { rows: params.rows.buffer, vocabSize, dim: o.dim, path: shuffled, opts: kopts },
        }));
      }
    }
    for (let it = history.length; it < o.iterations; it++) {
      const t0 = performance.now();
      let cost = 0, skipped = 0;
      if (threads === 1) {
        const r = trainSlice(params, shuffled, 0, records, kopts, o.onProgress);
        cost = r.cost; skipped = r.skipped;
      } else {
        const per = Math.ceil(records / threads);
        const results = await Promise.all(workers.map((w, t) => new Promise<{ cost: number; skipped: number }>((resolve, reject) => {
          const onMessage = (m: { progress?: number; done?: boolean; cost: number; skipped: number }) => {
            if (m.progress) o.onProgress?.(m.progress);
            if (m.done) { w.off('message', onMessage); w.off('error', reject); resolve(m); }
          };
          w.on('message', onMessage);
          w.once('error', reject);
          w.postMessage({ from: t * per, to: Math.min(records, (t + 1) * per) });
        })));
        for (const r of results) { cost += r.cost; skipped += r.skipped; }
      }
      const report: IterationReport = { iteration: it + 1, cost: records ? cost / records : 0, seconds: (performance.now() - t0) / 1000, records, skipped };
      history.push(report);
      if (o.checkpointDir) saveCheckpoint(o.checkpointDir, params, { key: o.key, iteration: it + 1, params: '', history });
      o.onIteration?.(report);
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return { params, history };
}

/** glove.c's default output ("model 2"): each word's vector is W + W~ (biases left out). */
export function wordVectors(p: GloveParams): Float32Array {
  const V = p.vocabSize, D = p.dim, S = rowStride(D);
  const out = new Float32Array(V * D);
  for (let i = 0; i < V; i++) {
    const a = i * S, c = (i + V) * S;
    for (let b = 0; b < D; b++) out[i * D + b] = p.rows[a + b] + p.rows[c + b];
  }
  return out;
}
