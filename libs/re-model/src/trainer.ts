import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  JsonlWriter, Progress, Rng, UserError, loadArtifact, saveArtifact, tensorsToHost, type TensorMap,
} from '@biore/runtime';
import { SGD, Adam, clipByGlobalNorm, type Optimizer } from '@biore/nn';
import type { RelationInstance } from '@biore/re-data';
import { assignWeights, type REModel } from './contract.ts';
import { epochBatches } from './batches.ts';
import { evaluate } from './evaluate.ts';

export interface TrainOptions {
  outDir: string;
  epochs: number;
  batchSize: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  weightDecay: number;
  /** fraction of all steps spent warming the learning rate up linearly (BERT fine-tuning) */
  warmup: number;
  /** 'constant', or 'linear' decay to 0 after warm-up */
  schedule: 'constant' | 'linear';
  clipNorm: number;
  seed: number;
  /** split each batch into this many micro-batches whose gradients are summed before one update (memory) */
  accumulate?: number;
  /** write a checkpoint every this many optimizer steps (and at every epoch end) */
  checkpointEvery: number;
  /** stop (after a checkpoint) when this many seconds have passed; 0: no limit */
  maxTime: number;
  resume: boolean;
  evalBatchSize: number;
  positiveLabels: readonly string[];
}

export interface TrainState {
  epoch: number;
  /** batches of `epoch` already done */
  batch: number;
  step: number;
  bestDevF1: number;
  bestEpoch: number;
  optimizer: string;
  seed: number;
  finished: boolean;
  [k: string]: unknown;
}

export interface TrainResult {
  state: TrainState;
  /** why training ended before its last epoch: a signal (resume later) or the --max-time budget */
  stoppedEarly: false | 'signal' | 'max-time';
}

export function makeOptimizer(o: Pick<TrainOptions, 'optimizer' | 'lr' | 'weightDecay'>, model?: REModel): Optimizer {
  if (o.optimizer === 'sgd') return new SGD(o.lr);
  const exempt = model?.noWeightDecay ? (name: string) => model.noWeightDecay!(name) : undefined;
  return new Adam(o.lr, { weightDecay: o.optimizer === 'adamw' ? o.weightDecay : 0 }, exempt);
}

export function learningRate(o: Pick<TrainOptions, 'lr' | 'warmup' | 'schedule'>, step: number, totalSteps: number): number {
  const warm = Math.floor(o.warmup * totalSteps);
  if (warm > 0 && step < warm) return (o.lr * (step + 1)) / warm;
  if (o.schedule === 'linear') return Math.max(0, (o.lr * (totalSteps - step)) / Math.max(1, totalSteps - warm));
  return o.lr;
}

/** Softmax cross-entropy averaged over the batch (Hiai et al.'s Loss_RE). */
export function crossEntropy(logits: tf.Tensor2D, labels: number[]): tf.Scalar {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  });
}

function labelIds(model: REModel, instances: readonly RelationInstance[], source: string): number[] {
  const index = new Map(model.labels.map((l, i) => [l, i]));
  return instances.map((inst) => {
    const id = index.get(inst.label);
    if (id === undefined) throw new UserError(`unknown label '${inst.label}' (model labels: ${model.labels.join(', ')})`, { file: source, record: inst.id });
    return id;
  });
}

/**
 * One optimizer step on a batch: the gradient of the batch's mean loss, computed over `o.accumulate`
 * micro-batches (each weighted by its share of the batch) so peak memory is that of a micro-batch.
 */
export function trainStep(
  model: REModel, vars: Record<string, tf.Variable>, opt: Optimizer, o: Pick<TrainOptions, 'accumulate' | 'clipNorm'>,
  instances: RelationInstance[], y: number[], dropoutSeed: number,
): number {
  const k = Math.max(1, Math.min(o.accumulate ?? 1, instances.length));
  const size = Math.ceil(instances.length / k);
  let sum: Record<string, tf.Tensor> | undefined;
  let loss = 0;
  for (let p = 0; p * size < instances.length; p++) {
    const part = instances.slice(p * size, (p + 1) * size);
    const w = part.length / instances.length;
    const batch = model.prepare(part);
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(model.forward(batch, true, dropoutSeed + 7 * p).logits, y.slice(p * size, (p + 1) * size)),
      Object.values(vars),
    );
    loss += w * value.dataSync()[0];
    value.dispose();
    const next: Record<string, tf.Tensor> = {};
    for (const [name, v] of Object.entries(vars)) {
      const g = grads[v.name];
      next[name] = tf.tidy(() => (sum ? tf.add(sum[name], tf.mul(g, w)) : k === 1 ? g.clone() : tf.mul(g, w)));
    }
    tf.dispose(Object.values(grads));
    if (sum) tf.dispose(Object.values(sum));
    sum = next;
  }
  tf.tidy(() => {
    const clipped = o.clipNorm > 0 ? clipByGlobalNorm(sum!, o.clipNorm).grads : sum!;
    opt.step(clipped, vars);
  });
  tf.dispose(Object.values(sum!));
  return loss;
}

const CHECKPOINT = 'checkpoint';
export const BEST = 'best';

function saveCheckpoint(dir: string, model: REModel, opt: Optimizer, state: TrainState): void {
  const os = opt.getState();
  const tensors: TensorMap = tensorsToHost(model.weights());
  for (const [k, v] of Object.entries(os.tensors)) tensors[`optimizer/${k}`] = v;
  saveArtifact(dir, { config: model.config() as Record<string, unknown>, tensors, state: { ...state, optimizerState: os.json } });
}

/**
 * Trains an RE model with dev-set model selection: each epoch ends with a dev evaluation, and the best model
 * so far is written to `<outDir>/best`. `<outDir>/checkpoint` holds weights, optimizer state and the data
 * position, so `resume` continues exactly where a killed run stopped (batches and dropout masks depend only on
 * the seed, the epoch and the step).
 */
export async function train(
  model: REModel,
  data: { train: readonly RelationInstance[]; dev: readonly RelationInstance[]; trainSource: string },
  o: TrainOptions,
  log: (line: Record<string, unknown>) => void = () => {},
): Promise<TrainResult> {
  const metrics = new JsonlWriter(join(o.outDir, 'metrics.jsonl'));
  const labels = labelIds(model, data.train, data.trainSource);
  const lengths = data.train.map((i) => i.tokens.length);
  const stepsPerEpoch = Math.ceil(data.train.length / o.batchSize);
  const totalSteps = stepsPerEpoch * o.epochs;
  const opt = makeOptimizer(o, model);
  let state: TrainState = { epoch: 0, batch: 0, step: 0, bestDevF1: -1, bestEpoch: -1, optimizer: opt.name, seed: o.seed, finished: false };
  const ckptDir = join(o.outDir, CHECKPOINT);
  if (o.resume && existsSync(ckptDir)) {
    const ck = loadArtifact(ckptDir);
    assignWeights(model, ck.tensors, join(ckptDir, 'model.safetensors'));
    const saved = ck.state as unknown as TrainState & { optimizerState: Record<string, unknown> };
    if (!saved || typeof saved.step !== 'number') throw new UserError('checkpoint has no training state', { file: join(ckptDir, 'state.json') });
    if (saved.seed !== o.seed) throw new UserError(`checkpoint was trained with seed ${saved.seed}, not ${o.seed}`, { file: ckptDir });
    const optTensors: TensorMap = {};
    for (const [k, v] of Object.entries(ck.tensors)) if (k.startsWith('optimizer/')) optTensors[k.slice('optimizer/'.length)] = v;
    opt.setState({ json: saved.optimizerState, tensors: optTensors });
    const { optimizerState: _drop, ...rest } = saved;
    state = rest as TrainState;
    log({ event: 'resume', epoch: state.epoch, batch: state.batch, step: state.step });
  }
  // a frozen encoder (CSE, a fixed ELMo) runs once over train and dev, in length-sorted batches, before the
  // clock of --max-time starts; the epochs then read its vectors from memory
  const tp = performance.now();
  const precomputed = model.precompute?.([...data.train, ...data.dev]) ?? 0;
  if (precomputed > 0) log({ event: 'precompute', sentences: precomputed, seconds: Math.round((performance.now() - tp) / 1000) });
  const vars = model.trainableVariables();
  const t0 = performance.now();
  let stop = false;
  const onSignal = () => { stop = true; };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (state.epoch < o.epochs && !state.finished) {
      const batches = epochBatches(lengths, o.batchSize, o.seed, state.epoch);
      const progress = new Progress(`epoch ${state.epoch + 1}/${o.epochs}`, data.train.length, 'sent', undefined, Math.min(data.train.length, state.batch * o.batchSize));
      let lossSum = 0, lossN = 0;
      for (; state.batch < batches.length; ) {
        const idx = batches[state.batch];
        opt.lr = learningRate(o, state.step, totalSteps);
        const loss = trainStep(model, vars, opt, o, idx.map((i) => data.train[i]), idx.map((i) => labels[i]), (o.seed * 7919 + state.step * 2) >>> 0);
        if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${state.step}: loss ${loss}`);
        lossSum += loss; lossN++;
        state.batch++;
        state.step++;
        progress.tick(idx.length, `loss ${(lossSum / lossN).toFixed(4)}`);
        // the loop is synchronous tensor work: yield once a step so SIGINT/SIGTERM handlers can run
        await new Promise((resolve) => setImmediate(resolve));
        if (state.step % 50 === 0) metrics.write({ event: 'train', epoch: state.epoch, step: state.step, loss: lossSum / lossN, lr: opt.lr, sentPerSec: progress.rate() });
        const timeUp = o.maxTime > 0 && (performance.now() - t0) / 1000 > o.maxTime;
        if (stop || timeUp || (o.checkpointEvery > 0 && state.step % o.checkpointEvery === 0)) {
          saveCheckpoint(ckptDir, model, opt, state);
          if (stop || timeUp) {
            progress.end();
            log({ event: 'stopped', reason: stop ? 'signal' : 'max-time', epoch: state.epoch, step: state.step, checkpoint: ckptDir });
            return { state, stoppedEarly: stop ? 'signal' : 'max-time' };
          }
        }
      }
      progress.end();
      const dev = evaluate(model, data.dev, o.positiveLabels, o.evalBatchSize);
      const line = { event: 'epoch', epoch: state.epoch + 1, step: state.step, trainLoss: lossSum / Math.max(1, lossN), devP: dev.precision, devR: dev.recall, devF1: dev.f1 };
      metrics.write(line);
      log(line);
      if (dev.f1 > state.bestDevF1) {
        state.bestDevF1 = dev.f1;
        state.bestEpoch = state.epoch + 1;
        saveArtifact(join(o.outDir, BEST), { config: model.config() as Record<string, unknown>, tensors: tensorsToHost(model.weights()), state: { epoch: state.epoch + 1, devF1: dev.f1, dev } });
      }
      state.epoch++;
      state.batch = 0;
      if (state.epoch >= o.epochs) state.finished = true;
      saveCheckpoint(ckptDir, model, opt, state);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    opt.dispose();
  }
  return { state, stoppedEarly: false };
}
