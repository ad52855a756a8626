import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@biore/runtime';
import { CharCNN, Dense, Highway, LSTM, dropout, normalVariable, constantVariable } from '@biore/nn';
import { type BilmOptions, cnnWidth } from './options.ts';
import { PAD_CHAR, tokenBatch, type TokenBatch } from './chars.ts';

/**
 * The batch's character ids [1, U, L] with trailing all-padding columns cut to what changes nothing: with K
 * the longest token's begin…end span, every window starting at or after K covers only padding and all such
 * windows are equal, so keeping K + maxWidth columns (at least one all-padding window per filter) leaves
 * each max-pooled value, and its gradient (ties share it), exactly as over the full width.
 */
function trimPadding(batch: TokenBatch, maxChars: number, maxWidth: number): tf.Tensor3D {
  const U = batch.types;
  let K = 0;
  for (let u = 0; u < U; u++) {
    const row = u * maxChars;
    let k = maxChars;
    while (k > 0 && (batch.typeIds[row + k - 1] === PAD_CHAR + 1 || batch.typeIds[row + k - 1] === 0)) k--;
    K = Math.max(K, k);
  }
  const L = Math.min(maxChars, K + maxWidth);
  if (L === maxChars) return tf.tensor3d(batch.typeIds, [1, U, maxChars], 'int32');
  const ids = new Int32Array(U * L);
  for (let u = 0; u < U; u++) ids.set(batch.typeIds.subarray(u * maxChars, u * maxChars + L), u * L);
  return tf.tensor3d(ids, [1, U, L], 'int32');
}

/** What one pass of the biLM yields, each [B, T, projection_dim], backward outputs aligned to token positions. */
export interface BilmActivations {
  /** the context-independent token representation (char CNN → highway → projection) */
  token: tf.Tensor3D;
  /** forward LSTM outputs, one per layer (after the skip connection) */
  forward: tf.Tensor3D[];
  /** backward LSTM outputs, one per layer; position t holds the state that read tokens T-1..t */
  backward: tf.Tensor3D[];
}

export interface RunOptions {
  /** dropout as in bilm-tf: on each LSTM layer's input and on the top output; needs `rng` */
  training?: boolean;
  rng?: Rng;
}

/**
 * The bidirectional language model of Peters et al. (2018) as bilm-tf defines it: tokens as character
 * ids → char CNN (max-pooled filters, relu/tanh) → highway layers → projection to `projection_dim` →
 * a forward and a backward stack of LSTMs with projection, cell and projection clipping, the upper
 * layers with a skip connection from their input → one softmax over the word vocabulary shared by both
 * directions (absent when the model is only used to embed, as published weights files omit it).
 *
 * Deviation from bilm-tf, on purpose: every sequence starts from a zero LSTM state (bilm-tf and allennlp
 * carry the state over from the previous batch), so a sentence's vectors do not depend on what was
 * embedded before it.
 */
export class BidirectionalLM {
  readonly cnn: CharCNN;
  readonly highway?: Highway;
  readonly projection?: Dense;
  readonly forwardLayers: LSTM[] = [];
  readonly backwardLayers: LSTM[] = [];
  readonly softmaxW?: tf.Variable;
  readonly softmaxB?: tf.Variable;
  readonly dim: number;
  readonly maxChars: number;
  /** widest character filter */
  readonly maxWidth: number;

  constructor(readonly options: BilmOptions, readonly vocabSize: number, rng: Rng) {
    const o = options;
    const F = cnnWidth(o);
    const P = o.lstm.projection_dim;
    this.dim = P;
    this.maxChars = o.char_cnn.max_characters_per_token;
    this.maxWidth = Math.max(...o.char_cnn.filters.map((x) => x[0]));
    // 262 rows: row 0 is the padding id of the +1 convention and stays zero (bilm-tf trains 261 rows)
    this.cnn = new CharCNN('CNN', { numChars: 262, charDim: o.char_cnn.embedding.dim, filters: o.char_cnn.filters, activation: o.char_cnn.activation }, rng);
    this.cnn.charEmbed.assign(tf.tidy(() => tf.concat([tf.zeros([1, o.char_cnn.embedding.dim]), tf.slice(this.cnn.charEmbed, [1, 0], [261, -1])], 0)));
    if (o.char_cnn.n_highway > 0) this.highway = new Highway('CNN_high', F, o.char_cnn.n_highway, rng);
    // bilm-tf projects only when the filters' width differs from projection_dim
    if (F !== P) this.projection = new Dense('CNN_proj', F, P, rng);
    for (let l = 0; l < o.lstm.n_layers; l++) {
      for (const [dir, list] of [[0, this.forwardLayers], [1, this.backwardLayers]] as const) {
        list.push(new LSTM(`RNN_${dir}/Cell${l}`, {
          inputSize: P,
          hiddenSize: o.lstm.dim,
          projectionSize: P,
          cellClip: o.lstm.cell_clip ?? undefined,
          projClip: o.lstm.proj_clip ?? undefined,
          forgetBias: 1,
        }, rng));
      }
    }
    if (vocabSize > 0) {
      this.softmaxW = normalVariable('softmax/W', [vocabSize, P], 1 / Math.sqrt(P), rng);
      this.softmaxB = constantVariable('softmax/b', [vocabSize], 0);
    }
  }

  /** Every variable under a stable name (the keys of checkpoints). */
  variables(): Record<string, tf.Variable> {
    const v: Record<string, tf.Variable> = { ...this.cnn.variables() };
    if (this.highway) Object.assign(v, this.highway.variables());
    if (this.projection) Object.assign(v, this.projection.variables());
    for (const l of [...this.forwardLayers, ...this.backwardLayers]) Object.assign(v, l.variables());
    if (this.softmaxW) v['softmax/W'] = this.softmaxW;
    if (this.softmaxB) v['softmax/b'] = this.softmaxB;
    return v;
  }

  /** Character ids [B, T, maxChars] (int32, +1 convention) → token representations [B, T, P]. */
  tokenRepresentation(charIds: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      let x: tf.Tensor = this.cnn.apply(charIds);
      if (this.highway) x = this.highway.apply(x);
      if (this.projection) x = this.projection.apply(x);
      return x as tf.Tensor3D;
    });
  }

  /**
   * Runs both directions over right-padded sequences (a TokenBatch: the char CNN runs once per distinct token).
   * Outputs at padded positions are zero. With `training`, dropout is applied to each layer's input and to the
   * top outputs (bilm-tf's DropoutWrapper and output dropout).
   */
  run(batch: TokenBatch, opts: RunOptions = {}): BilmActivations {
    const rate = opts.training ? (this.options.dropout ?? 0) : 0;
    const rng = opts.rng;
    if (rate > 0 && !rng) throw new Error('BidirectionalLM.run: training with dropout needs an rng');
    const [B, T] = batch.shape;
    const lengths = batch.lengths;
    return tf.tidy(() => {
      const mask = tf.tensor3d(Float32Array.from({ length: B * T }, (_, i) => (i % T < lengths[Math.floor(i / T)] ? 1 : 0)), [B, T, 1]);
      const types = this.tokenRepresentation(trimPadding(batch, this.maxChars, this.maxWidth));
      const perPos = tf.gather(tf.reshape(types, [batch.types, this.dim]), tf.tensor1d(batch.index, 'int32'));
      const token = tf.mul(tf.reshape(perPos, [B, T, this.dim]), mask) as tf.Tensor3D;
      const stack = (layers: LSTM[], reverse: boolean): tf.Tensor3D[] => {
        const outs: tf.Tensor3D[] = [];
        let x = token;
        layers.forEach((lstm, l) => {
          const xin = rate > 0 ? (dropout(x, rate, rng!, true) as tf.Tensor3D) : x;
          let y = lstm.forward(xin, { lengths, reverse }).outputs;
          if (l > 0 && this.options.lstm.use_skip_connections) y = tf.mul(tf.add(y, xin), mask) as tf.Tensor3D;
          outs.push(y);
          x = y;
        });
        return outs;
      };
      return { token, forward: stack(this.forwardLayers, false), backward: stack(this.backwardLayers, true) };
    });
  }

  /**
   * The ELMo layers of tokenized sentences: `<S>` and `</S>` are added around each sentence, the biLM is
   * run, and the markers removed again, as allennlp's Elmo does. Returns n_layers + 1 tensors
   * [B, maxLen, 2P]: the token layer duplicated (token ++ token), then each LSTM layer forward ++ backward;
   * zero past each sentence's end.
   */
  elmoLayers(sentences: readonly (readonly string[])[]): tf.Tensor3D[] {
    const B = sentences.length;
    const maxLen = sentences.reduce((m, s) => Math.max(m, s.length), 0);
    const withMarks = sentences.map((s) => ['<S>', ...s, '</S>']);
    const batch = tokenBatch(withMarks, this.maxChars, maxLen + 2);
    return tf.tidy(() => {
      const acts = this.run(batch);
      const P = this.dim;
      const strip = (x: tf.Tensor3D) => tf.slice(x, [0, 1, 0], [B, maxLen, x.shape[2]]) as tf.Tensor3D;
      // after stripping the markers, position maxLen-… of shorter sentences holds their </S>: zero it
      const keep = tf.tensor3d(Float32Array.from({ length: B * maxLen }, (_, i) => (i % maxLen < sentences[Math.floor(i / maxLen)].length ? 1 : 0)), [B, maxLen, 1]);
      const out: tf.Tensor3D[] = [tf.mul(strip(tf.concat([acts.token, acts.token], 2) as tf.Tensor3D), keep) as tf.Tensor3D];
      acts.forward.forEach((f, l) => out.push(tf.mul(strip(tf.concat([f, acts.backward[l]], 2) as tf.Tensor3D), keep) as tf.Tensor3D));
      void P;
      return out;
    });
  }

  /**
   * Starts the softmax bias at the log unigram distribution (a deviation from bilm-tf's zeros that saves a
   * short run the many steps of learning word frequencies; the model must still learn context to beat it).
   */
  setSoftmaxBias(logp: ArrayLike<number>): void {
    if (!this.softmaxB || logp.length !== this.vocabSize) throw new Error('setSoftmaxBias: no softmax or wrong length');
    tf.tidy(() => this.softmaxB!.assign(tf.tensor1d(Float32Array.from(logp))));
  }

  dispose(): void {
    for (const v of Object.values(this.variables())) v.dispose();
  }
}
