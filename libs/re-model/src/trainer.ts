import * as tf from '@tensorflow/tfjs-core';
import { join, resolve } from 'node:path';
import {
  CheckpointStore, JsonlWriter, UserError, loopStateOf, runLoop, saveArtifact, tensorsToHost,
  type ArtifactContents, type Evaluation, type LoopState, type StepReport, type TensorMap, type TrainingTask,
} from '@biore/runtime';
import { SGD, Adam, clipByGlobalNorm, type GradientWorkers, type Optimizer } from '@biore/nn';
import type { RelationInstance } from '@biore/re-data';
import { assignWeights, type REModel } from './contract.ts';
import { epochBatches } from './batches.ts';
import { evaluate, warmFrozenEncoders } from './evaluate.ts';
import { portableConfig } from './io.ts';
import { parallelTrainStep, precomputeOnWorkers, startREGradientWorkers, type REShard } from './parallel.ts';

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
  /** stop (after a checkpoint) after this many optimizer steps over the whole run; 0 or absent: no limit */
  maxSteps?: number;
  /** the run id that tags metrics lines and checkpoints */
  runId?: string;
  /** polled after each step besides SIGINT/SIGTERM (tests) */
  shouldStop?: () => boolean;
  /** copy the model's members (GloVe, CSE, ELMo, BERT folders) into `<outDir>/members` (portable run folder) */
  bundle?: boolean;
  /** data-parallel gradient workers (the main thread included); 1 or absent: one process, as trainStep */
  workers?: number;
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
  /** why training ended before its last epoch: a signal (resume later), the --max-time or --max-steps budget */
  stoppedEarly: false | 'signal' | 'max-time' | 'max-steps';
  signal?: 'SIGINT' | 'SIGTERM';
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

export const CHECKPOINT = 'checkpoint';
export const BEST = 'best';

/** The checkpoints of a run folder: `checkpoint` links the newest complete generation in `checkpoints/`. */
export function runCheckpoints(outDir: string): CheckpointStore {
  return new CheckpointStore(join(outDir, CHECKPOINT), join(outDir, 'checkpoints'));
}

/**
 * The RE model's side of the training loop: epochs of length-bucketed batches (fixed by the seed and the epoch),
 * one optimizer step a batch, a dev evaluation at each epoch end with the best model written to `<outDir>/best`.
 * Batches and dropout masks depend only on the seed, the epoch and the step, so a resumed run repeats exactly.
 */
class RETrainingTask implements TrainingTask {
  readonly unit = 'sent';
  private readonly lengths: number[];
  private readonly labels: number[];
  private readonly stepsPerEpoch: number;
  private readonly totalSteps: number;
  private readonly vars: Record<string, tf.Variable>;
  private batches: number[][] | undefined;
  private epochLoss = 0;
  private epochSteps = 0;
  constructor(
    private readonly model: REModel,
    private readonly data: { train: readonly RelationInstance[]; dev: readonly RelationInstance[] },
    private readonly o: TrainOptions,
    readonly opt: Optimizer,
    public state: TrainState,
    labels: number[],
    private readonly pool?: GradientWorkers<REShard>,
  ) {
    this.lengths = data.train.map((i) => i.tokens.length);
    this.labels = labels;
    this.stepsPerEpoch = Math.ceil(data.train.length / o.batchSize);
    this.totalSteps = this.stepsPerEpoch * o.epochs;
    this.vars = model.trainableVariables();
  }
  totalItems(): number { return this.o.epochs * this.data.train.length; }
  itemsDone(): number { return this.state.epoch * this.data.train.length + Math.min(this.data.train.length, this.state.batch * this.o.batchSize); }
  steps(): number { return this.state.step; }
  finished(): boolean { return this.state.finished || this.state.epoch >= this.o.epochs; }

  async step(): Promise<StepReport> {
    this.batches ??= epochBatches(this.lengths, this.o.batchSize, this.o.seed, this.state.epoch);
    const idx = this.batches[this.state.batch];
    this.opt.lr = learningRate(this.o, this.state.step, this.totalSteps);
    const args = [this.opt, this.o, idx.map((i) => this.data.train[i]), idx.map((i) => this.labels[i]), (this.o.seed * 7919 + this.state.step * 2) >>> 0] as const;
    const loss = this.pool ? await parallelTrainStep(this.pool, this.model, this.vars, ...args) : trainStep(this.model, this.vars, ...args);
    this.epochLoss += loss;
    this.epochSteps++;
    this.state.batch++;
    this.state.step++;
    if (this.state.batch < this.batches.length) return { loss, items: idx.length };
    this.batches = undefined;
    return { loss, items: idx.length, evaluate: `epoch ${this.state.epoch + 1}` };
  }

  evaluate(): Evaluation {
    const dev = evaluate(this.model, this.data.dev, this.o.positiveLabels, this.o.evalBatchSize);
    const metrics = { epoch: this.state.epoch + 1, trainLoss: this.epochLoss / Math.max(1, this.epochSteps), devP: dev.precision, devR: dev.recall, devF1: dev.f1 };
    return { score: dev.f1, metrics: { ...metrics, dev } };
  }

  afterEvaluate(ev: Evaluation, improved: boolean): void {
    if (improved) {
      this.state.bestDevF1 = ev.score;
      this.state.bestEpoch = this.state.epoch + 1;
      const bestDir = resolve(this.o.outDir, BEST);
      const config = portableConfig(this.model.config() as Record<string, unknown>, bestDir, { bundle: this.o.bundle, membersDir: resolve(this.o.outDir, 'members') });
      saveArtifact(bestDir, { config, tensors: tensorsToHost(this.model.weights()), state: { epoch: this.state.epoch + 1, devF1: ev.score, dev: ev.metrics.dev } });
    }
    this.state.epoch++;
    this.state.batch = 0;
    this.epochLoss = this.epochSteps = 0;
    if (this.state.epoch >= this.o.epochs) this.state.finished = true;
  }

  snapshot(_loop: LoopState): ArtifactContents {
    const os = this.opt.getState();
    const tensors: TensorMap = tensorsToHost(this.model.weights());
    for (const [k, v] of Object.entries(os.tensors)) tensors[`optimizer/${k}`] = v;
    return { config: this.model.config() as Record<string, unknown>, tensors, state: { ...this.state, optimizerState: os.json } };
  }

  trainInfo(): Record<string, unknown> {
    return { epoch: this.state.epoch, lr: this.opt.lr };
  }
}

/**
 * Trains an RE model with dev-set model selection on the shared training loop: each epoch ends with a dev
 * evaluation, and the best model so far is written to `<outDir>/best`; `<outDir>/checkpoint` holds weights,
 * optimizer state and the data position, so `resume` continues exactly where a killed run stopped.
 */
export async function train(
  model: REModel,
  data: { train: readonly RelationInstance[]; dev: readonly RelationInstance[]; trainSource: string },
  o: TrainOptions,
  log: (line: Record<string, unknown>) => void = () => {},
): Promise<TrainResult> {
  if (!(o.epochs >= 1)) throw new UserError(`--epochs must be at least 1, got ${o.epochs}`);
  if (data.train.length === 0) throw new UserError('no training instances', { file: data.trainSource });
  const metrics = new JsonlWriter(join(o.outDir, 'metrics.jsonl'));
  const labels = labelIds(model, data.train, data.trainSource);
  const opt = makeOptimizer(o, model);
  let state: TrainState = { epoch: 0, batch: 0, step: 0, bestDevF1: -1, bestEpoch: -1, optimizer: opt.name, seed: o.seed, finished: false };
  const store = runCheckpoints(o.outDir);
  let resumed: LoopState | undefined;
  if (o.resume) {
    const ck = store.load();
    if (!ck) throw new UserError('--resume: the run folder holds no checkpoint to resume from (start without --resume)', { file: o.outDir });
    assignWeights(model, ck.tensors, join(ck.dir, 'model.safetensors'));
    const saved = ck.state as unknown as TrainState & { optimizerState: Record<string, unknown>; loop?: unknown; runId?: unknown };
    if (typeof saved.step !== 'number') throw new UserError('checkpoint has no training state', { file: join(ck.dir, 'state.json') });
    if (saved.seed !== o.seed) throw new UserError(`checkpoint was trained with seed ${saved.seed}, not ${o.seed}`, { file: ck.dir });
    const optTensors: TensorMap = {};
    for (const [k, v] of Object.entries(ck.tensors)) if (k.startsWith('optimizer/')) optTensors[k.slice('optimizer/'.length)] = v;
    opt.setState({ json: saved.optimizerState, tensors: optTensors });
    resumed = loopStateOf(ck.state);
    const { optimizerState: _o, loop: _l, runId: _r, ...rest } = saved;
    state = rest as TrainState;
    // more epochs than the checkpoint was trained for extend a finished run
    if (state.finished && state.epoch < o.epochs) state.finished = false;
    log({ event: 'resume', epoch: state.epoch, batch: state.batch, step: state.step, checkpoint: ck.dir });
  }
  // a frozen encoder (CSE, a fixed ELMo) runs once over train and dev, in length-sorted batches, before the
  // clock of --max-time starts; the epochs then read its vectors from memory
  const pool = (o.workers ?? 1) > 1 ? await startREGradientWorkers(model, model.trainableVariables(), { workers: o.workers!, imports: [import.meta.resolve('@biore/embeddings')] }) : undefined;
  const tp = performance.now();
  const warm = [...data.train, ...data.dev];
  const precomputed = pool ? await precomputeOnWorkers(pool, model, warm) : warmFrozenEncoders(model, warm, o.batchSize);
  if (precomputed > 0) log({ event: 'precompute', sentences: precomputed, seconds: Math.round((performance.now() - tp) / 1000) });
  if (pool) log({ event: 'workers', participants: pool.size });
  const task = new RETrainingTask(model, data, o, opt, state, labels, pool);
  try {
    const r = await runLoop(task, {
      runId: o.runId, label: 'train', metrics, log, checkpoints: store, checkpointEverySteps: o.checkpointEvery,
      maxTimeSec: o.maxTime, maxSteps: o.maxSteps, higherIsBetter: true, resumed, metricsEvery: 50, shouldStop: o.shouldStop,
    });
    return { state: task.state, stoppedEarly: r.stopped === 'finished' ? false : r.stopped, signal: r.signal };
  } finally {
    await pool?.close();
    opt.dispose();
  }
}
