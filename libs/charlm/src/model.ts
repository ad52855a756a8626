import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, UserError, loadArtifact, saveArtifact, takeTensor, tensorsToHost, type TensorMap } from '@biore/runtime';
import { Dense, Embedding, LSTM, dropout } from '@biore/nn';
import { CharDictionary, DICTIONARY_FILE } from './dictionary.ts';

/** Everything that shapes a character LM; stored as the artifact's config.json. */
export interface CharLMConfig {
  format: 'biore-charlm';
  /** false: the model reads text reversed (flair's is_forward_lm) */
  isForwardLm: boolean;
  vocabSize: number;
  embeddingSize: number;
  hiddenSize: number;
  layers: number;
  /** size of the optional projection after the LSTM (flair's nout); null for none */
  nout: number | null;
  dropout: number;
  documentDelimiter: string;
}

export function charLMConfig(partial: Partial<CharLMConfig> & { vocabSize: number }): CharLMConfig {
  return {
    format: 'biore-charlm',
    isForwardLm: true,
    embeddingSize: 100,
    hiddenSize: 256,
    layers: 1,
    nout: null,
    dropout: 0.1,
    documentDelimiter: '\n',
    ...partial,
  };
}

/** The recurrent state carried from one window (or chunk) to the next: h and c per layer, each [batch, hidden]. */
export interface LMState {
  h: tf.Tensor2D[];
  c: tf.Tensor2D[];
}

export function disposeState(s: LMState | undefined): void {
  if (!s) return;
  for (const t of [...s.h, ...s.c]) t.dispose();
}

export function keepState(s: LMState): LMState {
  return { h: s.h.map((t) => tf.keep(t)), c: s.c.map((t) => tf.keep(t)) };
}

/**
 * flair's character language model: character embedding → dropout → LSTM (layers) → optional
 * projection → dropout → decoder over the characters. Inputs are [batch, T] ids.
 */
export class CharLanguageModel {
  readonly encoder: Embedding;
  readonly rnn: LSTM[];
  readonly proj?: Dense;
  readonly decoder: Dense;
  constructor(readonly config: CharLMConfig, readonly dictionary: CharDictionary, rng: Rng = new Rng(1)) {
    if (dictionary.size !== config.vocabSize) {
      throw new UserError(`the dictionary has ${dictionary.size} characters but the model expects ${config.vocabSize}`);
    }
    const c = config;
    this.encoder = new Embedding('encoder', c.vocabSize, c.embeddingSize, rng);
    this.rnn = [];
    for (let l = 0; l < c.layers; l++) this.rnn.push(new LSTM(`rnn/${l}`, { inputSize: l === 0 ? c.embeddingSize : c.hiddenSize, hiddenSize: c.hiddenSize }, rng));
    if (c.nout) this.proj = new Dense('proj', c.hiddenSize, c.nout, rng);
    this.decoder = new Dense('decoder', c.nout ?? c.hiddenSize, c.vocabSize, rng);
  }

  /** Size of the per-character representation the embeddings read. */
  get outputSize(): number {
    return this.config.nout ?? this.config.hiddenSize;
  }

  variables(): Record<string, tf.Variable> {
    const v: Record<string, tf.Variable> = { ...this.encoder.variables() };
    for (const l of this.rnn) Object.assign(v, l.variables());
    if (this.proj) Object.assign(v, this.proj.variables());
    Object.assign(v, this.decoder.variables());
    return v;
  }

  zeroState(batch: number): LMState {
    const H = this.config.hiddenSize;
    return {
      h: this.rnn.map(() => tf.zeros([batch, H]) as tf.Tensor2D),
      c: this.rnn.map(() => tf.zeros([batch, H]) as tf.Tensor2D),
    };
  }

  /**
   * Runs the LM over ids [batch, T]: the representation after each character
   * ([batch, T, outputSize], after projection and dropout) and the final state.
   * With `training`, dropout masks come from `rng`.
   */
  forward(ids: tf.Tensor2D, state: LMState, opts: { training?: boolean; rng?: Rng } = {}): { output: tf.Tensor3D; state: LMState } {
    const training = Boolean(opts.training);
    const p = this.config.dropout;
    const rng = opts.rng;
    if (training && p > 0 && !rng) throw new Error('training with dropout needs an rng');
    const h: tf.Tensor2D[] = [];
    const c: tf.Tensor2D[] = [];
    let x = this.encoder.lookup(ids) as tf.Tensor3D;
    if (training) x = dropout(x, p, rng!, true) as tf.Tensor3D;
    this.rnn.forEach((layer, l) => {
      if (l > 0 && training) x = dropout(x, p, rng!, true) as tf.Tensor3D;
      const r = layer.forward(x, { initial: { h: state.h[l], c: state.c[l] } });
      x = r.outputs;
      h.push(r.final.h);
      c.push(r.final.c);
    });
    if (this.proj) x = this.proj.apply(x) as tf.Tensor3D;
    if (training) x = dropout(x, p, rng!, true) as tf.Tensor3D;
    return { output: x, state: { h, c } };
  }

  /** Logits over characters for representations [..., outputSize] → [N, vocab]. */
  decode(output: tf.Tensor): tf.Tensor2D {
    return this.decoder.apply(tf.reshape(output, [-1, this.outputSize])) as tf.Tensor2D;
  }

  /** Mean cross-entropy (nats) of predicting `target` from `input` (both [batch, T]), and the final state. */
  loss(input: tf.Tensor2D, target: tf.Tensor2D, state: LMState, opts: { training?: boolean; rng?: Rng } = {}): { loss: tf.Scalar; state: LMState } {
    const r = this.forward(input, state, opts);
    const logits = this.decode(r.output);
    const labels = tf.oneHot(tf.reshape(target, [-1]) as tf.Tensor1D, this.config.vocabSize);
    const loss = tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    return { loss, state: r.state };
  }

  /** The weights as host tensors, keyed by their stable names. */
  weightsToHost(): TensorMap {
    return tensorsToHost(this.variables());
  }

  /** Assigns weights from a loaded map; a missing or mis-shaped tensor is a UserError naming `source`. */
  loadWeights(tensors: TensorMap, source: string): void {
    for (const [name, v] of Object.entries(this.variables())) {
      const h = takeTensor(tensors, name, v.shape, source);
      v.assign(tf.tensor(h.data, h.shape, 'float32'));
    }
  }

  save(dir: string, extraConfig: Record<string, unknown> = {}): void {
    saveArtifact(dir, { config: { ...this.config, ...extraConfig }, tensors: this.weightsToHost(), files: { [DICTIONARY_FILE]: this.dictionary.serialize() } });
  }

  /** Loads an LM folder (config.json, model.safetensors, dictionary.json), checking that all three agree. */
  static load(dir: string): CharLanguageModel {
    const a = loadArtifact(dir);
    const config = validateConfig(a.config, join(dir, 'config.json'));
    const dictPath = join(dir, DICTIONARY_FILE);
    if (!existsSync(dictPath)) throw new UserError('character dictionary not found beside the model', { file: dictPath });
    const dictionary = CharDictionary.load(dictPath);
    if (dictionary.size !== config.vocabSize) {
      throw new UserError(`the dictionary lists ${dictionary.size} characters but the model was trained with ${config.vocabSize}: dictionary and model do not match`, { file: dictPath });
    }
    const m = new CharLanguageModel(config, dictionary);
    m.loadWeights(a.tensors, join(dir, 'model.safetensors'));
    return m;
  }

  dispose(): void {
    for (const v of Object.values(this.variables())) v.dispose();
  }
}

export function validateConfig(raw: Record<string, unknown>, source: string): CharLMConfig {
  if (raw.format !== 'biore-charlm') throw new UserError(`not a character LM config: expected "format": "biore-charlm"`, { file: source });
  const num = (k: string, min: number) => {
    const v = raw[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new UserError(`'${k}' must be an integer ≥ ${min}, got ${JSON.stringify(v)}`, { file: source });
    return v;
  };
  if (typeof raw.isForwardLm !== 'boolean') throw new UserError("'isForwardLm' must be true or false", { file: source });
  const nout = raw.nout === null || raw.nout === undefined ? null : num('nout', 1);
  const dropoutRate = typeof raw.dropout === 'number' && raw.dropout >= 0 && raw.dropout < 1 ? raw.dropout : undefined;
  if (dropoutRate === undefined) throw new UserError("'dropout' must be a number in [0, 1)", { file: source });
  return {
    format: 'biore-charlm',
    isForwardLm: raw.isForwardLm,
    vocabSize: num('vocabSize', 2),
    embeddingSize: num('embeddingSize', 1),
    hiddenSize: num('hiddenSize', 1),
    layers: num('layers', 1),
    nout,
    dropout: dropoutRate,
    documentDelimiter: typeof raw.documentDelimiter === 'string' ? raw.documentDelimiter : '\n',
  };
}
