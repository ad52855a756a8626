import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointStore, Rng, UserError, loadArtifact, saveArtifact, hostToTensor, takeTensor, type ArtifactContents, type TensorMap } from '@biore/runtime';
import { Adagrad, clipByGlobalNorm } from '@biore/nn';
import { BidirectionalLM } from './model.ts';
import { bilmLoss, LogUniformSampler } from './loss.ts';
import { epochBatches, makeBatch } from './data.ts';
import { BilmVocabulary } from './vocab.ts';
import { type BilmOptions, parseBilmOptions } from './options.ts';
import { writeBilmHdf5 } from './hdf5.ts';

export interface TrainSettings {
  seed: number;
  /** Adagrad learning rate (bilm-tf: 0.2) */
  learningRate: number;
  /** Adagrad initial accumulator (bilm-tf: 1.0) */
  initialAccumulator: number;
  /** write a checkpoint every this many steps (0: never) */
  checkpointEvery: number;
}

export const DEFAULT_TRAIN_SETTINGS: TrainSettings = { seed: 42, learningRate: 0.2, initialAccumulator: 1.0, checkpointEvery: 50 };

/** Everything a resumed run needs besides weights and optimizer slots. */
export interface TrainPosition {
  step: number;
  epoch: number;
  /** index of the next batch within the epoch's order */
  batch: number;
  /** dropout and negative-sampling stream */
  rng: number[];
  tokens: number;
  seconds: number;
}

export interface StepReport {
  step: number;
  epoch: number;
  loss: number;
  tokens: number;
  gradNorm: number;
}

/**
 * Trains a biLM on sequences (see toSequences) with Adagrad and global-norm clipping as bilm-tf does; checkpoints
 * hold weights, optimizer slots, the data position and the RNG, so a resumed run continues the exact same
 * trajectory. Call `run` with a step budget; `position` tells where it stands.
 */
export class BilmTrainer {
  readonly optimizer: Adagrad;
  readonly sampler: LogUniformSampler;
  position: TrainPosition;
  private rng: Rng;
  private order?: { epoch: number; batches: number[][] };

  constructor(
    readonly model: BidirectionalLM,
    readonly vocab: BilmVocabulary,
    readonly sequences: readonly (readonly string[])[],
    readonly settings: TrainSettings,
  ) {
    if (!model.softmaxW) throw new Error('training needs a biLM with a softmax');
    this.optimizer = new Adagrad(settings.learningRate, settings.initialAccumulator);
    this.sampler = new LogUniformSampler(vocab.size);
    this.rng = new Rng(settings.seed ^ 0x5eed);
    this.position = { step: 0, epoch: 0, batch: 0, rng: this.rng.getState(), tokens: 0, seconds: 0 };
  }

  get options(): BilmOptions {
    return this.model.options;
  }

  /** Batches per epoch. */
  batchesPerEpoch(): number {
    return Math.ceil(this.sequences.length / (this.options.batch_size ?? 32));
  }

  private batchOrder(epoch: number): number[][] {
    if (this.order?.epoch !== epoch) {
      const bs = this.options.batch_size ?? 32;
      this.order = { epoch, batches: epochBatches(this.sequences.length, (i) => this.sequences[i].length, bs, this.settings.seed, epoch) };
    }
    return this.order.batches;
  }

  /** One update on the next batch. */
  step(): StepReport {
    const t0 = performance.now();
    const order = this.batchOrder(this.position.epoch);
    const idx = order[this.position.batch];
    const batch = makeBatch(idx.map((i) => this.sequences[i]), this.vocab, this.model.maxChars);
    const vars = this.model.variables();
    const negatives = this.options.n_negative_samples_batch ?? 0;
    let count = 0;
    const { value, grads } = tf.variableGrads(() => {
      const l = bilmLoss(this.model, batch, { training: true, rng: this.rng, negatives, sampler: this.sampler });
      count = l.count;
      return l.loss;
    }, Object.values(vars));
    const byName: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(vars)) if (grads[v.name]) byName[k] = grads[v.name];
    const clipped = clipByGlobalNorm(byName, this.options.all_clip_norm_val ?? 10);
    this.optimizer.step(clipped.grads, vars);
    if (clipped.grads !== byName) for (const g of Object.values(clipped.grads)) g.dispose();
    for (const g of Object.values(grads)) g.dispose();
    const loss = value.dataSync()[0];
    value.dispose();
    if (!Number.isFinite(loss)) throw new Error(`training diverged: loss ${loss} at step ${this.position.step + 1}`);
    const p = this.position;
    p.step++;
    p.tokens += count;
    p.batch++;
    if (p.batch >= order.length) { p.epoch++; p.batch = 0; }
    p.rng = this.rng.getState();
    p.seconds += (performance.now() - t0) / 1000;
    return { step: p.step, epoch: p.epoch, loss, tokens: count, gradNorm: clipped.norm };
  }

  /** Saves weights, optimizer slots, position and RNG as a new checkpoint generation at `dir` (see CheckpointStore). */
  saveCheckpoint(dir: string, extraFiles: Record<string, string> = {}): void {
    new CheckpointStore(dir).save(this.snapshot(extraFiles));
  }

  /** The parts of a checkpoint: weights, optimizer slots, position and RNG, the vocabulary. */
  snapshot(extraFiles: Record<string, string> = {}): ArtifactContents {
    const tensors: TensorMap = {};
    for (const [k, v] of Object.entries(this.model.variables())) tensors[k] = { dtype: 'float32', shape: v.shape.slice(), data: v.dataSync() as Float32Array };
    const opt = this.optimizer.getState();
    for (const [k, t] of Object.entries(opt.tensors)) tensors[`optimizer/${k}`] = t;
    return {
      config: { format: 'biore-elmo-checkpoint', options: this.options, settings: this.settings, vocabSize: this.vocab.size },
      tensors,
      state: { position: this.position, optimizer: opt.json },
      files: { 'vocab.txt': this.vocab.toText(), ...extraFiles },
    };
  }

  /** Restores a checkpoint written by saveCheckpoint into this trainer (same options and vocabulary). */
  restore(at: string): void {
    const dir = new CheckpointStore(at).latest() ?? at;
    const a = loadArtifact(dir);
    const file = join(dir, 'model.safetensors');
    if (!a.state) throw new UserError('checkpoint has no state.json', { file: dir });
    // the epoch budget may grow between runs (train further); everything else must match
    const same = (o: unknown) => JSON.stringify({ ...(o as object), n_epochs: undefined });
    if (same(a.config.options) !== same(this.options)) throw new UserError('checkpoint was written with different options; start afresh with --fresh or use the same options', { file: join(dir, 'config.json') });
    const vocabPath = join(dir, 'vocab.txt');
    if (existsSync(vocabPath) && BilmVocabulary.load(vocabPath).toText() !== this.vocab.toText()) throw new UserError('checkpoint vocabulary differs from the corpus vocabulary', { file: vocabPath });
    for (const [k, v] of Object.entries(this.model.variables())) {
      const h = takeTensor(a.tensors, k, v.shape, file);
      tf.tidy(() => v.assign(hostToTensor(h)));
    }
    const slots: TensorMap = {};
    for (const [k, t] of Object.entries(a.tensors)) if (k.startsWith('optimizer/')) slots[k.slice('optimizer/'.length)] = t;
    this.optimizer.setState({ json: (a.state as { optimizer: Record<string, unknown> }).optimizer, tensors: slots });
    this.position = { ...(a.state as { position: TrainPosition }).position };
    this.rng.setState(this.position.rng);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/**
 * Mean NLL per direction on held-out sequences with the full softmax and no dropout; perplexity is
 * exp of the mean over both directions (as bilm-tf reports it).
 */
export function evaluateBilm(model: BidirectionalLM, vocab: BilmVocabulary, sequences: readonly (readonly string[])[], batchSize = 32): { perplexity: number; forwardPerplexity: number; backwardPerplexity: number; tokens: number } {
  const order = Array.from({ length: sequences.length }, (_, i) => i).sort((a, b) => sequences[a].length - sequences[b].length);
  let fw = 0;
  let bw = 0;
  let n = 0;
  for (let i = 0; i < order.length; i += batchSize) {
    const seqs = order.slice(i, i + batchSize).map((j) => sequences[j]).filter((s) => s.length >= 2);
    if (!seqs.length) continue;
    const batch = makeBatch(seqs, vocab, model.maxChars);
    const [f, b, c] = tf.tidy(() => {
      const l = bilmLoss(model, batch, { training: false });
      return [l.forwardNll.dataSync()[0], l.backwardNll.dataSync()[0], l.count];
    });
    fw += f * c;
    bw += b * c;
    n += c;
  }
  return { perplexity: Math.exp((fw + bw) / (2 * n)), forwardPerplexity: Math.exp(fw / n), backwardPerplexity: Math.exp(bw / n), tokens: n };
}

/** The options.json a trained model ships with: bilm-tf's keys, n_characters 262 as for published models. */
export function exportOptions(o: BilmOptions): BilmOptions {
  return { ...o, char_cnn: { ...o.char_cnn, n_characters: 262 } };
}

/**
 * Writes a trained biLM folder: config.json, model.safetensors, vocab.txt, and the bilm-tf pair
 * options.json + weights.hdf5 (loadable with `--options/--weights` here and by allennlp).
 */
export async function saveBilm(dir: string, model: BidirectionalLM, vocab: BilmVocabulary, extra: Record<string, unknown> = {}): Promise<void> {
  const tensors: TensorMap = {};
  for (const [k, v] of Object.entries(model.variables())) tensors[k] = { dtype: 'float32', shape: v.shape.slice(), data: v.dataSync() as Float32Array };
  // h5wasm writes files, not buffers: write beside the folder, read back, then let saveArtifact place it atomically
  const tmpH5 = `${dir}.weights-${process.pid}.hdf5`;
  await writeBilmHdf5(model, tmpH5);
  const h5 = readFileSync(tmpH5);
  rmSync(tmpH5, { force: true });
  saveArtifact(dir, {
    config: { format: 'biore-elmo', options: model.options, vocabSize: vocab.size, ...extra },
    tensors,
    files: { 'vocab.txt': vocab.toText(), 'options.json': JSON.stringify(exportOptions(model.options), null, 2) + '\n', 'weights.hdf5': h5 },
  });
}

/** Loads a folder written by saveBilm (with its softmax and vocabulary). */
export function loadBilm(dir: string): { model: BidirectionalLM; vocab: BilmVocabulary; config: Record<string, unknown> } {
  const a = loadArtifact(dir);
  if (a.config.format !== 'biore-elmo' && a.config.format !== 'biore-elmo-checkpoint') {
    throw new UserError(`not an ELMo model folder (config.json format '${String(a.config.format)}', expected 'biore-elmo')`, { file: join(dir, 'config.json') });
  }
  const options = parseBilmOptions(a.config.options, join(dir, 'config.json'));
  const vocab = BilmVocabulary.load(join(dir, 'vocab.txt'));
  const model = new BidirectionalLM(options, vocab.size, new Rng(0));
  const file = join(dir, 'model.safetensors');
  for (const [k, v] of Object.entries(model.variables())) tf.tidy(() => v.assign(hostToTensor(takeTensor(a.tensors, k, v.shape, file))));
  return { model, vocab, config: a.config };
}

