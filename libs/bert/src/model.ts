import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@biore/runtime';
import type { BertConfig } from './config.ts';

/**
 * One BERT parameter: its Hugging Face name (without the `bert.` prefix), its shape in the published
 * PyTorch layout, and whether it is a Linear weight ([out, in] in PyTorch, kept here as [in, out]).
 */
export interface BertParamSpec {
  name: string;
  hfShape: number[];
  linear: boolean;
  init: 'normal' | 'zeros' | 'ones';
  /** part of the masked-LM head rather than the encoder */
  mlmHead?: boolean;
  /** part of the pooler (only the heads that read the pooled [CLS] use it) */
  pooler?: boolean;
}

/** Every parameter of the encoder (+ pooler) and, optionally, the masked-LM head, in HF naming. */
export function bertParamSpecs(c: BertConfig, withMlmHead = false): BertParamSpec[] {
  const H = c.hidden_size, I = c.intermediate_size;
  const s: BertParamSpec[] = [];
  const lin = (name: string, out: number, inp: number, mlmHead = false) => {
    s.push({ name: `${name}.weight`, hfShape: [out, inp], linear: true, init: 'normal', mlmHead });
    s.push({ name: `${name}.bias`, hfShape: [out], linear: false, init: 'zeros', mlmHead });
  };
  const ln = (name: string, mlmHead = false) => {
    s.push({ name: `${name}.weight`, hfShape: [H], linear: false, init: 'ones', mlmHead });
    s.push({ name: `${name}.bias`, hfShape: [H], linear: false, init: 'zeros', mlmHead });
  };
  s.push({ name: 'embeddings.word_embeddings.weight', hfShape: [c.vocab_size, H], linear: false, init: 'normal' });
  s.push({ name: 'embeddings.position_embeddings.weight', hfShape: [c.max_position_embeddings, H], linear: false, init: 'normal' });
  s.push({ name: 'embeddings.token_type_embeddings.weight', hfShape: [c.type_vocab_size, H], linear: false, init: 'normal' });
  ln('embeddings.LayerNorm');
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    lin(`${p}.attention.self.query`, H, H);
    lin(`${p}.attention.self.key`, H, H);
    lin(`${p}.attention.self.value`, H, H);
    lin(`${p}.attention.output.dense`, H, H);
    ln(`${p}.attention.output.LayerNorm`);
    lin(`${p}.intermediate.dense`, I, H);
    lin(`${p}.output.dense`, H, I);
    ln(`${p}.output.LayerNorm`);
  }
  lin('pooler.dense', H, H);
  s[s.length - 1].pooler = s[s.length - 2].pooler = true;
  if (withMlmHead) {
    lin('cls.predictions.transform.dense', H, H, true);
    ln('cls.predictions.transform.LayerNorm', true);
    s.push({ name: 'cls.predictions.bias', hfShape: [c.vocab_size], linear: false, init: 'zeros', mlmHead: true });
  }
  return s;
}

export interface BertInputs {
  /** [batch, seq] int32 word-piece ids */
  inputIds: tf.Tensor2D;
  /** [batch, seq], 1 for real tokens, 0 for padding */
  attentionMask: tf.Tensor2D;
  /** [batch, seq] int32 segment ids; zeros when absent */
  tokenTypeIds?: tf.Tensor2D;
}

export interface BertOutput {
  /** the embedding output followed by every layer's output (num_hidden_layers + 1 tensors [batch, seq, hidden]), as HF's hidden_states */
  hiddenStates: tf.Tensor3D[];
  /** the last layer's output [batch, seq, hidden] */
  lastHiddenState: tf.Tensor3D;
  /** tanh(dense([CLS] of the last layer)) [batch, hidden] */
  pooled: tf.Tensor2D;
}

export interface ForwardOptions {
  /** dropout on (fine-tuning, pre-training); off by default */
  training?: boolean;
  /** seeds for dropout masks when training */
  rng?: Rng;
}

function swapLast(t: tf.Tensor): tf.Tensor {
  const perm = t.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return tf.transpose(t, perm);
}

/**
 * a·b whose gradient transposes explicitly and then multiplies plainly: the tfjs wasm backend runs
 * matMul with transposeA/transposeB tens of times slower than a transpose plus a plain matMul.
 */
export const matMulT = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved;
      return [tf.matMul(dy, swapLast(sb)), tf.matMul(swapLast(sa), dy)];
    },
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** GELU, exact erf form as in the original BERT (`hidden_act: "gelu"`). */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.div(x, Math.SQRT2)))));
}

function geluTanh(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
    return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
  });
}

/**
 * The BERT encoder in tfjs-core: word + position + token-type embeddings and LayerNorm, then
 * `num_hidden_layers` post-LN transformer layers (multi-head self-attention with a padding mask, GELU
 * feed-forward), the pooler, and optionally the masked-LM head with its decoder tied to the word embeddings.
 * Parameters are tf.Variables keyed by their HF names; Linear weights are held as [in, out].
 */
export class BertModel {
  readonly params = new Map<string, tf.Variable>();
  readonly specs: BertParamSpec[];
  constructor(readonly config: BertConfig, opts: { withMlmHead?: boolean; seed?: number; values?: Map<string, tf.Tensor> } = {}) {
    this.specs = bertParamSpecs(config, opts.withMlmHead ?? false);
    const rng = new Rng(opts.seed ?? 1);
    for (const s of this.specs) {
      const shape = s.linear ? [s.hfShape[1], s.hfShape[0]] : s.hfShape;
      const given = opts.values?.get(s.name);
      const init = given ?? tf.tidy(() =>
        s.init === 'normal' ? tf.truncatedNormal(shape, 0, this.config.initializer_range, 'float32', rng.seed())
          : s.init === 'ones' ? tf.ones(shape) : tf.zeros(shape));
      this.params.set(s.name, tf.variable(init, true));
      if (!given) init.dispose();
    }
  }

  get hasMlmHead(): boolean {
    return this.params.has('cls.predictions.bias');
  }

  p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`BERT parameter ${name} does not exist`);
    return v;
  }

  /** Trainable variables; with `encoderOnly` the masked-LM head is left out. */
  variables(encoderOnly = false): tf.Variable[] {
    return this.specs.filter((s) => !(encoderOnly && s.mlmHead)).map((s) => this.p(s.name));
  }

  /** Names that BERT's AdamW exempts from weight decay: biases and LayerNorm parameters. */
  static noDecay(name: string): boolean {
    return name.endsWith('.bias') || name.includes('LayerNorm');
  }

  private dense(x: tf.Tensor, name: string): tf.Tensor {
    const w = this.p(`${name}.weight`), b = this.p(`${name}.bias`);
    const shape = x.shape;
    const x2 = x.reshape([-1, shape[shape.length - 1]]) as tf.Tensor2D;
    const y = tf.add(matMulT(x2, w), b);
    return y.reshape([...shape.slice(0, -1), w.shape[1] as number]);
  }

  private layerNorm(x: tf.Tensor, name: string): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const norm = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.config.layer_norm_eps)));
    return tf.add(tf.mul(norm, this.p(`${name}.weight`)), this.p(`${name}.bias`));
  }

  private dropout(x: tf.Tensor, rate: number, o: ForwardOptions): tf.Tensor {
    if (!o.training || rate === 0) return x;
    return tf.dropout(x, rate, undefined, (o.rng ?? new Rng(7)).seed());
  }

  private act(x: tf.Tensor): tf.Tensor {
    const a = this.config.hidden_act;
    return a === 'gelu' ? gelu(x) : a === 'gelu_new' ? geluTanh(x) : tf.relu(x);
  }

  /** Embedding output: LayerNorm(word + position + token type), then dropout. */
  embed(inputs: BertInputs, o: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const [B, T] = inputs.inputIds.shape;
      if (T > this.config.max_position_embeddings) {
        throw new Error(`sequence length ${T} exceeds max_position_embeddings ${this.config.max_position_embeddings}`);
      }
      const H = this.config.hidden_size;
      const words = tf.gather(this.p('embeddings.word_embeddings.weight'), inputs.inputIds.flatten()).reshape([B, T, H]);
      const pos = tf.slice(this.p('embeddings.position_embeddings.weight'), [0, 0], [T, H]).expandDims(0);
      const types = inputs.tokenTypeIds
        ? tf.gather(this.p('embeddings.token_type_embeddings.weight'), inputs.tokenTypeIds.flatten()).reshape([B, T, H])
        : tf.slice(this.p('embeddings.token_type_embeddings.weight'), [0, 0], [1, H]).expandDims(0);
      const sum = tf.add(tf.add(words, pos), types);
      return this.dropout(this.layerNorm(sum, 'embeddings.LayerNorm'), this.config.hidden_dropout_prob, o) as tf.Tensor3D;
    });
  }

  /** One transformer layer; `maskBias` is [batch, 1, 1, seq] with 0 for tokens and -10000 for padding. */
  layer(x: tf.Tensor3D, maskBias: tf.Tensor, l: number, o: ForwardOptions = {}): tf.Tensor3D {
    return tf.tidy(() => {
      const c = this.config;
      const [B, T, H] = x.shape;
      const nH = c.num_attention_heads, dH = H / nH;
      const p = `encoder.layer.${l}`;
      const heads = (t: tf.Tensor) => t.reshape([B, T, nH, dH]).transpose([0, 2, 1, 3]);
      const q = heads(this.dense(x, `${p}.attention.self.query`));
      const k = heads(this.dense(x, `${p}.attention.self.key`));
      const v = heads(this.dense(x, `${p}.attention.self.value`));
      const scores = tf.add(tf.div(matMulT(q, swapLast(k)), Math.sqrt(dH)), maskBias);
      const probs = this.dropout(tf.softmax(scores, -1), c.attention_probs_dropout_prob, o);
      const ctx = matMulT(probs, v).transpose([0, 2, 1, 3]).reshape([B, T, H]);
      const attnOut = this.dropout(this.dense(ctx, `${p}.attention.output.dense`), c.hidden_dropout_prob, o);
      const h1 = this.layerNorm(tf.add(attnOut, x), `${p}.attention.output.LayerNorm`);
      const inter = this.act(this.dense(h1, `${p}.intermediate.dense`));
      const out = this.dropout(this.dense(inter, `${p}.output.dense`), c.hidden_dropout_prob, o);
      return this.layerNorm(tf.add(out, h1), `${p}.output.LayerNorm`) as tf.Tensor3D;
    });
  }

  /** The full encoder: every layer's hidden states and the pooled [CLS]. The caller owns (disposes) the outputs. */
  forward(inputs: BertInputs, o: ForwardOptions = {}): BertOutput {
    return tf.tidy(() => {
      const maskBias = tf.mul(tf.sub(1, tf.cast(inputs.attentionMask, 'float32')), -10000).expandDims(1).expandDims(1);
      const hiddenStates: tf.Tensor3D[] = [this.embed(inputs, o)];
      for (let l = 0; l < this.config.num_hidden_layers; l++) hiddenStates.push(this.layer(hiddenStates[l], maskBias, l, o));
      const last = hiddenStates[hiddenStates.length - 1];
      const [B, , H] = last.shape;
      const cls = tf.slice(last, [0, 0, 0], [B, 1, H]).reshape([B, H]);
      const pooled = tf.tanh(this.dense(cls, 'pooler.dense')) as tf.Tensor2D;
      return { hiddenStates, lastHiddenState: last, pooled };
    });
  }

  /** Masked-LM logits [n, vocab] for hidden vectors [n, hidden]: transform, GELU, LayerNorm, tied decoder + bias. */
  mlmLogits(hidden: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const t = this.layerNorm(this.act(this.dense(hidden, 'cls.predictions.transform.dense')), 'cls.predictions.transform.LayerNorm');
      return tf.add(matMulT(t, tf.transpose(this.p('embeddings.word_embeddings.weight'))), this.p('cls.predictions.bias')) as tf.Tensor2D;
    });
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    this.params.clear();
  }
}
