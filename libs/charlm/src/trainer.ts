import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  CheckpointStore, JsonlWriter, Rng, UserError, loadArtifact, runLoop, takeTensor,
  type ArtifactContents, type Evaluation as LoopEvaluation, type LoopState, type StepReport, type StopReason, type TensorMap, type TrainingTask,
} from '@biore/runtime';
import { SGD, clipByGlobalNorm, type GradientWorkers } from '@biore/nn';
import { parallelCharTrainStep, startCharLMGradientWorkers, type CharShard } from './parallel.ts';
import { batchify, getWindow, windowCount, type BatchedStream } from './batching.ts';
import { documentsToStream, readDocuments, type CharCorpus } from './corpus.ts';
import { CharDictionary, DICTIONARY_FILE } from './dictionary.ts';
import { CharLanguageModel, disposeState, keepState, validateConfig, type LMState } from './model.ts';

export interface TrainOptions {
  seqLen: number;
  batch: number;
  epochs: number;
  /** seconds of training (summed over resumed runs) after which the run validates, saves and stops */
  maxTimeSec: number;
  lr: number;
  /** global gradient-norm clip (flair: 0.25) */
  clip: number;
  /** lr ← lr · annealFactor after more than `patience` validations without improvement */
  annealFactor: number;
  patience: number;
  /** flair's random case flip of 1 % + 1 % of training documents */
  caseFlip: boolean;
  seed: number;
  /** where the best model goes (config.json, model.safetensors, dictionary.json) */
  outDir?: string;
  /** the resumable training state: weights, recurrent state, optimizer, lr, data position, rng */
  checkpointDir?: string;
  checkpointEverySec?: number;
  checkpointEveryWindows?: number;
  /** validate (and possibly anneal) every this many windows besides each epoch's end; 0: at epoch ends only */
  validEveryWindows?: number;
  metrics?: JsonlWriter;
  progressLabel?: string;
  /** polled after each window: true stops the run at once with a checkpoint (SIGINT/SIGTERM) */
  shouldStop?: () => boolean;
  /** test hook: called after each window with the count of windows done */
  afterWindow?: (windowsDone: number) => void;
  /** the run id that tags metrics lines */
  runId?: string;
  /** data-parallel gradient workers, the main thread included (1 or absent: one process) */
  workers?: number;
}

/** The position and bookkeeping that, with the weights and recurrent state, let a run resume exactly. */
export interface TrainState {
  version: 1;
  epoch: number;
  /** the order of the training split files this epoch; null before the epoch has started */
  order: number[] | null;
  splitPos: number;
  window: number;
  /** rng state when the current split's stream was drawn (shuffle, case flips) */
  splitRngState: number[];
  rngState: number[];
  lr: number;
  bestValidLoss: number | null;
  badValidations: number;
  windowsDone: number;
  chars: number;
  elapsedSec: number;
  finished: boolean;
  fingerprint: Record<string, unknown>;
}

export interface Evaluation {
  loss: number;
  perplexity: number;
  bitsPerChar: number;
  chars: number;
}

export interface TrainResult {
  stopped: 'finished' | 'max-time' | 'signal';
  signal?: 'SIGINT' | 'SIGTERM';
  state: TrainState;
  lastValid?: Evaluation;
  charsPerSec: number;
}

/**
 * One truncated-BPTT update: loss of the window from the carried state, gradients of all weights,
 * global-norm clipping, the optimizer's step. Disposes `state` and returns the new one.
 */
export function trainStep(model: CharLanguageModel, optimizer: SGD, clip: number, input: Int32Array, target: Int32Array, len: number, batch: number, state: LMState, rng: Rng): { loss: number; state: LMState; gradNorm: number } {
  const varMap = model.variables();
  const names = Object.keys(varMap);
  const vars = names.map((n) => varMap[n]);
  let next: LMState | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const r = model.loss(tf.tensor2d(input, [batch, len], 'int32'), tf.tensor2d(target, [batch, len], 'int32'), state, { training: true, rng });
    next = keepState(r.state);
    return r.loss;
  }, vars);
  const named: Record<string, tf.Tensor> = {};
  names.forEach((n, i) => { named[n] = grads[vars[i].name]; });
  const clipped = clipByGlobalNorm(named, clip);
  optimizer.step(clipped.grads, varMap);
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(named), ...Object.values(clipped.grads)]);
  disposeState(state);
  return { loss, state: next!, gradNorm: clipped.norm };
}

export const CHECKPOINT_FORMAT = 'biore-charlm-checkpoint';

/** Mean cross-entropy of a batched held-out stream, predicting every successor, state carried across windows. */
export function evaluate(model: CharLanguageModel, s: BatchedStream, seqLen: number): Evaluation {
  const nW = windowCount(s, seqLen);
  if (nW === 0) throw new UserError(`held-out split too small: it needs at least ${2 * s.batch} characters for batch ${s.batch}`);
  let state = model.zeroState(s.batch);
  let total = 0;
  let n = 0;
  for (let w = 0; w < nW; w++) {
    const win = getWindow(s, w, seqLen);
    const r = tf.tidy(() => {
      const out = model.loss(tf.tensor2d(win.input, [s.batch, win.len], 'int32'), tf.tensor2d(win.target, [s.batch, win.len], 'int32'), state);
      return { loss: out.loss, state: out.state } as unknown as tf.TensorContainer;
    }) as unknown as { loss: tf.Scalar; state: LMState };
    disposeState(state);
    state = r.state;
    total += r.loss.dataSync()[0] * win.len * s.batch;
    r.loss.dispose();
    n += win.len * s.batch;
  }
  disposeState(state);
  const loss = total / n;
  return { loss, perplexity: Math.exp(loss), bitsPerChar: loss / Math.LN2, chars: n };
}

/** The stream of a held-out split as the model reads it (reversed for a backward LM), laid out for `batch`. */
export function heldOutStream(path: string, dict: CharDictionary, forward: boolean, batch: number): BatchedStream {
  const s = batchify(documentsToStream(readDocuments(path), dict, { forward }), batch);
  if (s.rows < 2) throw new UserError(`held-out split too small: it needs at least ${2 * batch} characters for batch ${batch}`, { file: path });
  return s;
}

function fingerprintOf(model: CharLanguageModel, corpus: CharCorpus, o: TrainOptions): Record<string, unknown> {
  return {
    model: model.config,
    dictionary: model.dictionary.items.join(''),
    train: corpus.train,
    valid: corpus.valid,
    seqLen: o.seqLen,
    batch: o.batch,
    seed: o.seed,
    caseFlip: o.caseFlip,
    clip: o.clip,
  };
}

/** JSON with object keys sorted, so equal settings compare equal whatever their key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}

function initialState(o: TrainOptions, fingerprint: Record<string, unknown>, rng: Rng): TrainState {
  return {
    version: 1, epoch: 0, order: null, splitPos: 0, window: 0, splitRngState: rng.getState(), rngState: rng.getState(),
    lr: o.lr, bestValidLoss: null, badValidations: 0, windowsDone: 0, chars: 0, elapsedSec: 0, finished: false, fingerprint,
  };
}

/** Writes the resumable state (a new checkpoint generation at `dir`): weights, the carried recurrent state and optimizer tensors, and state.json. */
export function saveCheckpoint(dir: string, model: CharLanguageModel, state: TrainState, hidden: LMState | undefined, optimizer: SGD): void {
  new CheckpointStore(dir).save(checkpointContents(model, state, hidden, optimizer));
}

/** The parts of a char-LM checkpoint: weights, the carried recurrent state and optimizer tensors, and the state. */
export function checkpointContents(model: CharLanguageModel, state: TrainState, hidden: LMState | undefined, optimizer: SGD): ArtifactContents {
  const tensors: TensorMap = model.weightsToHost();
  if (hidden) {
    hidden.h.forEach((t, l) => { tensors[`hidden/h/${l}`] = { dtype: 'float32', shape: t.shape.slice(), data: t.dataSync() as Float32Array }; });
    hidden.c.forEach((t, l) => { tensors[`hidden/c/${l}`] = { dtype: 'float32', shape: t.shape.slice(), data: t.dataSync() as Float32Array }; });
  }
  const opt = optimizer.getState();
  for (const [k, v] of Object.entries(opt.tensors)) tensors[`optimizer/${k}`] = v;
  return {
    config: { ...model.config, checkpoint: CHECKPOINT_FORMAT },
    tensors,
    state: { ...state, optimizer: opt.json } as unknown as Record<string, unknown>,
    files: { [DICTIONARY_FILE]: model.dictionary.serialize() },
  };
}

export interface LoadedCheckpoint {
  dir: string;
  model: CharLanguageModel;
  state: TrainState;
  tensors: TensorMap;
  source: string;
}

/**
 * Reads a checkpoint folder; a truncated or corrupt weights file, a malformed state.json or a dictionary
 * that does not fit the model is a UserError naming the file.
 */
export function loadCheckpoint(at: string): LoadedCheckpoint {
  // `at` is the checkpoint as written (a link to its newest complete generation) or a generation folder itself
  const dir = new CheckpointStore(at).latest() ?? at;
  if (!existsSync(join(dir, 'state.json'))) throw new UserError('not a checkpoint: state.json is missing', { file: at });
  const a = loadArtifact(dir);
  const source = join(dir, 'model.safetensors');
  const model = (() => {
    const config = validateConfig(a.config, join(dir, 'config.json'));
    const dict = CharDictionary.load(join(dir, DICTIONARY_FILE));
    if (dict.size !== config.vocabSize) {
      throw new UserError(`the dictionary lists ${dict.size} characters but the checkpoint's model has ${config.vocabSize}: dictionary and model do not match`, { file: join(dir, DICTIONARY_FILE) });
    }
    return new CharLanguageModel(config, dict);
  })();
  model.loadWeights(a.tensors, source);
  const s = a.state as Partial<TrainState> | undefined;
  const statePath = join(dir, 'state.json');
  if (!s || s.version !== 1) throw new UserError('unsupported or missing training state (expected version 1)', { file: statePath });
  for (const k of ['epoch', 'splitPos', 'window', 'lr', 'badValidations', 'windowsDone', 'chars', 'elapsedSec'] as const) {
    if (typeof s[k] !== 'number' || !Number.isFinite(s[k] as number)) throw new UserError(`training state field '${k}' must be a number`, { file: statePath });
  }
  for (const k of ['rngState', 'splitRngState'] as const) {
    const v = s[k];
    if (!Array.isArray(v) || v.length !== 4 || v.some((x) => typeof x !== 'number')) throw new UserError(`training state field '${k}' must be four 32-bit words`, { file: statePath });
  }
  if (s.order !== null && (!Array.isArray(s.order) || s.order.some((x) => typeof x !== 'number'))) throw new UserError("training state field 'order' must be a list of split indices or null", { file: statePath });
  return { dir, model, state: s as TrainState, tensors: a.tensors, source };
}

function restoreHidden(model: CharLanguageModel, tensors: TensorMap, batch: number, source: string): LMState | undefined {
  if (!tensors['hidden/h/0']) return undefined;
  const H = model.config.hiddenSize;
  const take = (n: string) => { const h = takeTensor(tensors, n, [batch, H], source); return tf.tensor2d(h.data as Float32Array, [batch, H]); };
  return { h: model.rnn.map((_, l) => take(`hidden/h/${l}`)), c: model.rnn.map((_, l) => take(`hidden/c/${l}`)) };
}

/**
 * flair's language-model training as a task of the shared loop: truncated BPTT over each training split laid out
 * in `batch` rows, hidden state carried across windows, SGD with a high learning rate and global-norm clipping,
 * validation (each epoch's end, and every `validEveryWindows`) with annealing on plateau, the best model kept in
 * `outDir`.
 */
class CharLMTask implements TrainingTask {
  readonly unit = 'chars';
  private train: BatchedStream | undefined;
  private nW = 0;
  hidden: LMState | undefined;
  private windowsSinceValid = 0;
  private readonly docsCache = new Map<string, string[]>();
  private totalEstimate = 0;
  constructor(
    private readonly model: CharLanguageModel,
    private readonly corpus: CharCorpus,
    private readonly o: TrainOptions,
    readonly optimizer: SGD,
    readonly rng: Rng,
    readonly state: TrainState,
    private readonly valid: BatchedStream,
    private readonly pool?: GradientWorkers<CharShard>,
  ) {}

  totalItems(): number { return this.totalEstimate; }
  itemsDone(): number { return this.state.chars; }
  steps(): number { return this.state.windowsDone; }
  finished(): boolean { return this.state.finished || this.state.epoch >= this.o.epochs; }

  private docsOf(f: string): string[] {
    let d = this.docsCache.get(f);
    if (!d) { d = readDocuments(f); this.docsCache.set(f, d); }
    return d;
  }

  /** the current split's stream: drawn afresh at its first window, redrawn from the saved rng state on resume */
  private openSplit(): void {
    const { state, o, model } = this;
    const forward = model.config.isForwardLm;
    const file = this.corpus.train[state.order![state.splitPos]];
    let rng = this.rng;
    if (state.window === 0) state.splitRngState = this.rng.getState();
    else { rng = new Rng(); rng.setState(state.splitRngState); }
    this.train = batchify(documentsToStream(this.docsOf(file), model.dictionary, { forward, rng, caseFlip: o.caseFlip }), o.batch);
    this.nW = windowCount(this.train, o.seqLen);
    if (this.nW === 0) throw new UserError(`training split too small: it needs at least ${2 * o.batch} characters for batch ${o.batch}`, { file });
    if (this.totalEstimate === 0) this.totalEstimate = o.epochs * this.nW * o.seqLen * o.batch * this.corpus.train.length;
    this.hidden ??= model.zeroState(o.batch);
  }

  async step(): Promise<StepReport> {
    const { state, o } = this;
    if (!state.order) {
      const ids = this.corpus.train.map((_, i) => i);
      state.order = state.epoch === 0 ? ids : this.rng.shuffle(ids);
    }
    if (!this.train) this.openSplit();
    const win = getWindow(this.train!, state.window, o.seqLen);
    const r = this.pool
      ? await parallelCharTrainStep(this.pool, this.model, this.optimizer, o.clip, win.input, win.target, win.len, o.batch, this.hidden!, this.rng)
      : trainStep(this.model, this.optimizer, o.clip, win.input, win.target, win.len, o.batch, this.hidden!, this.rng);
    this.hidden = r.state;
    state.window++;
    state.windowsDone++;
    state.chars += win.len * o.batch;
    this.windowsSinceValid++;
    o.afterWindow?.(state.windowsDone);
    let evaluate: string | undefined;
    if (o.validEveryWindows && this.windowsSinceValid >= o.validEveryWindows && state.window < this.nW) evaluate = `window ${state.window}/${this.nW}`;
    if (state.window >= this.nW) {
      disposeState(this.hidden);
      this.hidden = undefined;
      this.train = undefined;
      state.window = 0;
      state.splitPos++;
      if (state.splitPos >= state.order.length) {
        state.order = null;
        state.splitPos = 0;
        evaluate = `epoch ${state.epoch + 1}`;
      }
    }
    return { loss: r.loss, items: win.len * o.batch, evaluate };
  }

  evaluate(): LoopEvaluation {
    const ev = evaluate(this.model, this.valid, this.o.seqLen);
    return { score: ev.loss, metrics: { epoch: this.state.epoch + 1, chars: this.state.chars, loss: ev.loss, perplexity: ev.perplexity, bitsPerChar: ev.bitsPerChar, lr: this.optimizer.lr, evaluation: ev } };
  }

  afterEvaluate(ev: LoopEvaluation, improved: boolean, label: string): void {
    const { state, optimizer } = this;
    this.windowsSinceValid = 0;
    if (improved) {
      state.bestValidLoss = ev.score;
      state.badValidations = 0;
      const e = ev.metrics.evaluation as Evaluation;
      if (this.o.outDir) this.model.save(this.o.outDir, { validLoss: e.loss, validBitsPerChar: e.bitsPerChar, chars: state.chars });
    } else if (++state.badValidations > this.o.patience) {
      optimizer.lr *= this.o.annealFactor;
      state.badValidations = 0;
    }
    state.lr = optimizer.lr;
    if (this.o.progressLabel) process.stderr.write(`\n${this.o.progressLabel} ${label}: valid loss ${ev.score.toFixed(4)} bits/char ${(ev.score / Math.LN2).toFixed(4)}${improved ? ' (best)' : ''} lr ${optimizer.lr}\n`);
    if (label.startsWith('epoch')) state.epoch++;
  }

  beforeStop(reason: StopReason): string | void {
    if (reason === 'signal') return;
    // a spent time budget ends the run like its last epoch: validated, and marked finished (a resume may extend it)
    this.state.finished = true;
    if (reason === 'max-time' && this.windowsSinceValid > 0) return 'end (max time)';
  }

  snapshot(loop: LoopState): ArtifactContents {
    this.state.rngState = this.rng.getState();
    this.state.elapsedSec = loop.elapsedSec;
    this.state.lr = this.optimizer.lr;
    return checkpointContents(this.model, this.state, this.hidden, this.optimizer);
  }

  trainInfo(): Record<string, unknown> {
    return { epoch: this.state.epoch + 1, window: this.state.window, chars: this.state.chars, lr: this.optimizer.lr };
  }

  dispose(): void {
    disposeState(this.hidden);
    this.hidden = undefined;
  }
}

/**
 * flair's language-model training on the shared loop (see CharLMTask). With `resume`, continues from a
 * checkpoint exactly where it left off; `maxTimeSec` counts the training time of every resumed part.
 */
export async function trainLanguageModel(model: CharLanguageModel, corpus: CharCorpus, o: TrainOptions, resume?: LoadedCheckpoint): Promise<TrainResult> {
  if (!(o.epochs >= 1)) throw new UserError(`epochs must be at least 1, got ${o.epochs}`);
  const rng = new Rng(o.seed);
  const fingerprint = fingerprintOf(model, corpus, o);
  let state: TrainState;
  let hidden: LMState | undefined;
  const optimizer = new SGD(o.lr);
  if (resume) {
    const diff = Object.keys(fingerprint).filter((k) => canonical(fingerprint[k]) !== canonical(resume.state.fingerprint?.[k]));
    if (diff.length) throw new UserError(`the checkpoint was made with different settings (${diff.join(', ')}); resume with the same ones or start afresh`, { file: resume.source });
    for (const [name, v] of Object.entries(model.variables())) v.assign(tf.tensor(resume.tensors[name].data, resume.tensors[name].shape, 'float32'));
    state = resume.state;
    // a finished run may be extended with more epochs or time
    state.finished = false;
    rng.setState(state.rngState);
    hidden = restoreHidden(model, resume.tensors, o.batch, resume.source);
    const opt: TensorMap = {};
    for (const [k, v] of Object.entries(resume.tensors)) if (k.startsWith('optimizer/')) opt[k.slice('optimizer/'.length)] = v;
    const json = (resume.state as unknown as { optimizer?: Record<string, unknown> }).optimizer;
    if (!json || json.optimizer !== optimizer.name) throw new UserError(`the checkpoint holds no '${optimizer.name}' optimizer state`, { file: join(resume.dir, 'state.json') });
    optimizer.setState({ json, tensors: opt });
  } else {
    state = initialState(o, fingerprint, rng);
  }
  optimizer.lr = state.lr;
  const valid = heldOutStream(corpus.valid, model.dictionary, model.config.isForwardLm, o.batch);
  const pool = (o.workers ?? 1) > 1 ? await startCharLMGradientWorkers(model, { workers: o.workers! }) : undefined;
  const task = new CharLMTask(model, corpus, o, optimizer, rng, state, valid, pool);
  task.hidden = hidden;
  const resumed: LoopState = { elapsedSec: state.elapsedSec, best: state.bestValidLoss, bestLabel: null, evaluations: 0 };
  try {
    const r = await runLoop(task, {
      label: o.progressLabel ?? 'char LM', quiet: !o.progressLabel, metrics: o.metrics, runId: o.runId,
      checkpoints: o.checkpointDir ? new CheckpointStore(o.checkpointDir) : undefined,
      checkpointEverySteps: o.checkpointEveryWindows, checkpointEverySec: o.checkpointEverySec,
      maxTimeSec: Number.isFinite(o.maxTimeSec) ? o.maxTimeSec : 0, higherIsBetter: false, resumed, metricsEvery: 50, shouldStop: o.shouldStop,
    });
    const lastValid = r.lastEval?.metrics.evaluation as Evaluation | undefined;
    return { stopped: r.stopped === 'max-steps' ? 'max-time' : r.stopped, signal: r.signal, state, lastValid, charsPerSec: r.rate };
  } finally {
    await pool?.close();
    task.dispose();
  }
}
