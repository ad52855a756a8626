// LSTM / BiLSTM training-step benchmark: prints JSON with forward+backward tokens/s and achieved GFLOP/s
// beside the backend's own large-matmul rate, each by wall time and by this process's CPU time. Flags: --backend, --seconds (per case, default 4), --impl fused|autodiff|both.
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, numFlag, parseFlags, Rng, runCli, UserError } from '@biore/runtime';
import { BiLSTM, LSTM, lstmFlops, type LSTMConfig } from '../src/index.ts';

interface Case { name: string; bidirectional: boolean; B: number; T: number; cfg: LSTMConfig }

const CASES: Case[] = [
  { name: 'lstm h256 t100 b32', bidirectional: false, B: 32, T: 100, cfg: { inputSize: 256, hiddenSize: 256 } },
  { name: 're-bilstm in100 h256 t50 b32', bidirectional: true, B: 32, T: 50, cfg: { inputSize: 100, hiddenSize: 256 } },
];

/** CPU seconds of this process (user + system): on a shared machine wall time measures the neighbours too. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Per-iteration wall and CPU seconds (the wasm backend runs one thread, so on an idle machine they agree). */
function timeIt(fn: () => void, seconds: number): { wall: number; cpu: number; iters: number } {
  fn(); // warm-up: kernels compiled, buffers sized
  let iters = 0;
  const t0 = performance.now();
  const c0 = cpuSeconds();
  while (iters < 2 || cpuSeconds() - c0 < seconds) {
    fn();
    iters++;
  }
  return { wall: (performance.now() - t0) / 1000 / iters, cpu: (cpuSeconds() - c0) / iters, iters };
}

/** The large-matmul rate by wall time (runtime's measureMatmulRate) and by CPU time. */
function matmulRates(): { wall: number; cpu: number } {
  const n = 1024;
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const t = timeIt(() => tf.tidy(() => { tf.matMul(a, b).dataSync(); }), 1);
  tf.dispose([a, b]);
  return { wall: 2 * n ** 3 / t.wall / 1e9, cpu: 2 * n ** 3 / t.cpu / 1e9 };
}

function runCase(c: Case, impl: 'fused' | 'autodiff', seconds: number) {
  // the machine is shared: the reference rate is measured right before and after each case and averaged
  const before = matmulRates();
  const rng = new Rng(1);
  const model = c.bidirectional ? new BiLSTM('bilstm', c.cfg, rng) : new LSTM('lstm', c.cfg, rng);
  const x = tf.randomNormal([c.B, c.T, c.cfg.inputSize], 0, 1, 'float32', 2) as tf.Tensor3D;
  // ragged lengths as in real batches (the longest fills T)
  const lengths = Array.from({ length: c.B }, (_, b) => (b === 0 ? c.T : Math.max(1, c.T - ((b * 7) % Math.ceil(c.T / 2)))));
  const vars = Object.values(model.variables());
  const out = () => (model instanceof BiLSTM ? model.forward(x, { lengths, impl }) : model.forward(x, { lengths, impl }).outputs);
  let peakBytes = 0;
  const fwd = timeIt(() => tf.tidy(() => { out().dataSync(); }), seconds / 2);
  const train = timeIt(() => {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(out())) as tf.Scalar, vars);
    peakBytes = Math.max(peakBytes, tf.memory().numBytes);
    value.dataSync();
    for (const g of Object.values(grads)) g.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  }, seconds);
  const after = matmulRates();
  const mmWall = (before.wall + after.wall) / 2;
  const mmCpu = (before.cpu + after.cpu) / 2;
  const dirs = c.bidirectional ? 2 : 1;
  const flops = dirs * lstmFlops(c.B, c.T, c.cfg.inputSize, c.cfg.hiddenSize);
  tf.dispose([x, ...vars]);
  return {
    case: c.name, impl,
    batch: c.B, seq: c.T, input: c.cfg.inputSize, hidden: c.cfg.hiddenSize, directions: dirs,
    trainGflopPerStep: +(flops / 1e9).toFixed(3),
    wall: {
      forwardMs: +(fwd.wall * 1000).toFixed(1),
      trainStepMs: +(train.wall * 1000).toFixed(1),
      trainTokensPerSec: Math.round((c.B * c.T) / train.wall),
      achievedGflops: +(flops / train.wall / 1e9).toFixed(2),
      matmulGflops: +mmWall.toFixed(2),
      fractionOfMatmulRate: +(flops / train.wall / 1e9 / mmWall).toFixed(3),
    },
    cpu: {
      forwardMs: +(fwd.cpu * 1000).toFixed(1),
      trainStepMs: +(train.cpu * 1000).toFixed(1),
      trainTokensPerSec: Math.round((c.B * c.T) / train.cpu),
      achievedGflops: +(flops / train.cpu / 1e9).toFixed(2),
      matmulGflops: +mmCpu.toFixed(2),
      fractionOfMatmulRate: +(flops / train.cpu / 1e9 / mmCpu).toFixed(3),
    },
    peakTensorMB: +(peakBytes / 2 ** 20).toFixed(1),
    iterations: train.iters,
  };
}

runCli(async () => {
  const { values: flags } = parseFlags({ backend: { type: 'string' }, seconds: { type: 'string' }, impl: { type: 'string' } });
  const report = await initBackend(flags.backend);
  const seconds = numFlag(flags.seconds, 'seconds', 4);
  if (flags.impl && !['fused', 'autodiff', 'both'].includes(flags.impl)) throw new UserError(`--impl expects fused, autodiff or both, got '${flags.impl}'`);
  const impls = flags.impl === 'both' ? (['fused', 'autodiff'] as const) : [(flags.impl ?? 'fused') as 'fused' | 'autodiff'];
  const results = [];
  for (const c of CASES) for (const impl of impls) results.push(runCase(c, impl, seconds));
  console.log(JSON.stringify({ backend: report.backend, simd: report.simd, threads: report.threads, loadAverage: os.loadavg().map((l) => +l.toFixed(1)), results }, null, 2));
});
