import type { BertModel } from '@biore/bert';
import type { BertBatch, BertREModel } from '../bert-re.ts';
import { OnnxGraph } from './graph.ts';
import type { Feeds } from './embedders.ts';
import { dense, dimOf, hostValues, layerNorm, lengthMask, lstmWeightsByName, maskedSoftmax, onnxLstm } from './ops.ts';

const BIG = 2 ** 62;

/** x·W + b with one of BERT's HF-named Linear layers (held [in, out]). */
function linear(g: OnnxGraph, bert: BertModel, x: string, name: string): string {
  return dense(g, x, bert.p(`${name}.weight`), bert.p(`${name}.bias`), name);
}

function norm(g: OnnxGraph, bert: BertModel, x: string, name: string): string {
  return layerNorm(g, x, bert.p(`${name}.weight`), bert.p(`${name}.bias`), bert.config.layer_norm_eps, name);
}

function activation(g: OnnxGraph, x: string, act: string): string {
  if (act === 'relu') return g.op1('Relu', [x]);
  if (act === 'gelu') return g.op1('Mul', [g.op1('Mul', [x, g.floats([0.5])]), g.op1('Add', [g.floats([1]), g.op1('Erf', [g.op1('Div', [x, g.floats([Math.SQRT2])])])])]);
  // gelu_new: the tanh approximation
  const cube = g.op1('Mul', [g.op1('Pow', [x, g.floats([3])]), g.floats([0.044715])]);
  const inner = g.op1('Mul', [g.op1('Add', [x, cube]), g.floats([Math.sqrt(2 / Math.PI)])]);
  return g.op1('Mul', [g.op1('Mul', [x, g.floats([0.5])]), g.op1('Add', [g.floats([1]), g.op1('Tanh', [inner])])]);
}

/** The BERT encoder (post-LN transformer layers, padding mask) → every hidden state and the pooled [CLS]. */
function encoderGraph(g: OnnxGraph, bert: BertModel, ids: string, mask: string): { hidden: string[]; pooled: string } {
  const c = bert.config;
  const H = c.hidden_size, nH = c.num_attention_heads, dH = H / nH;
  const words = g.op1('Gather', [g.weight('word_embeddings', hostValues(bert.p('embeddings.word_embeddings.weight')), [c.vocab_size, H]), ids], { axis: 0 });
  const positions = g.op1('Slice', [g.weight('position_embeddings', hostValues(bert.p('embeddings.position_embeddings.weight')), [c.max_position_embeddings, H]), g.ints([0]), dimOf(g, ids, 1), g.ints([0])]);
  const type0 = g.op1('Gather', [g.weight('token_type_embeddings', hostValues(bert.p('embeddings.token_type_embeddings.weight')), [c.type_vocab_size, H]), g.ints([0], [])], { axis: 0 });
  const hidden = [norm(g, bert, g.op1('Add', [g.op1('Add', [words, positions]), type0]), 'embeddings.LayerNorm')];
  const maskBias = g.op1('Unsqueeze', [g.op1('Mul', [g.op1('Sub', [g.floats([1]), mask]), g.floats([-10000])]), g.ints([1, 2])]);
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    const x = hidden[l];
    const split = (t: string) => g.op1('Reshape', [t, g.ints([0, 0, nH, dH])]);
    const q = g.op1('Transpose', [split(linear(g, bert, x, `${p}.attention.self.query`))], { perm: [0, 2, 1, 3] });
    const kT = g.op1('Transpose', [split(linear(g, bert, x, `${p}.attention.self.key`))], { perm: [0, 2, 3, 1] });
    const v = g.op1('Transpose', [split(linear(g, bert, x, `${p}.attention.self.value`))], { perm: [0, 2, 1, 3] });
    const scores = g.op1('Add', [g.op1('Div', [g.op1('MatMul', [q, kT]), g.floats([Math.sqrt(dH)])]), maskBias]);
    const ctx = g.op1('Reshape', [g.op1('Transpose', [g.op1('MatMul', [g.op1('Softmax', [scores], { axis: -1 }), v])], { perm: [0, 2, 1, 3] }), g.ints([0, 0, H])]);
    const h1 = norm(g, bert, g.op1('Add', [linear(g, bert, ctx, `${p}.attention.output.dense`), x]), `${p}.attention.output.LayerNorm`);
    const inter = activation(g, linear(g, bert, h1, `${p}.intermediate.dense`), c.hidden_act);
    hidden.push(norm(g, bert, g.op1('Add', [linear(g, bert, inter, `${p}.output.dense`), h1]), `${p}.output.LayerNorm`));
  }
  const cls = g.op1('Gather', [hidden[hidden.length - 1], g.ints([0], [])], { axis: 1 });
  return { hidden, pooled: g.op1('Tanh', [linear(g, bert, cls, 'pooler.dense')]) };
}

/** softmax(h·K) over mask and O = Σ α_i h_i (BertREModel.attend): context [B, H] and weights [B, N]. */
function attend(g: OnnxGraph, h: string, K: string, mask?: string): { context: string; weights: string } {
  const scores = g.op1('Squeeze', [g.op1('MatMul', [h, K]), g.ints([2])]);
  const weights = mask ? maskedSoftmax(g, scores, mask) : g.op1('Softmax', [scores], { axis: 1 });
  const context = g.op1('Squeeze', [g.op1('MatMul', [g.op1('Unsqueeze', [weights, g.ints([1])]), h]), g.ints([1])]);
  return { context, weights };
}

/**
 * BERT with one of Su & Vijay-Shanker's seven heads as one ONNX graph. Inputs: `ids` int64 [B, T] (word pieces,
 * [CLS] … [SEP], padded) and `lengths` int32 [B] (pieces between [CLS] and [SEP]). Outputs `logits` and, for
 * att_ll heads, `piece_attention` [B, T] (the engine sums it per word, as BertREModel.forward does).
 */
export function bertGraph(model: BertREModel): OnnxGraph {
  const g = new OnnxGraph('bert');
  const bert = model.bert;
  const cfg = model.config();
  const vars = model.weights();
  const H = bert.config.hidden_size;
  const ids = g.input('ids', 'int64', ['batch', 'pieces']);
  const lengths = g.input('lengths', 'int32', ['batch']);
  const { hidden, pooled } = encoderGraph(g, bert, ids, lengthMask(g, lengths, ids, 1, 2));
  const last = hidden[hidden.length - 1];
  const parts: string[] = [];
  if (model.usesCls) parts.push(cfg.clsVector === 'raw' ? g.op1('Gather', [last, g.ints([0], [])], { axis: 1 }) : pooled);
  const K = () => g.weight('head/K', hostValues(vars['head/K']), [H, 1]);
  const lstm = () => lstmWeightsByName(vars, 'head/lstm');
  if (model.summaryOf === 'last-layer') {
    if (model.summarizer === 'att') {
      // the "other" tokens h_1..h_N: 1 ≤ t ≤ lengths
      const T = g.op1('Squeeze', [dimOf(g, ids, 1), g.ints([0])]);
      const notCls = g.op1('Cast', [g.op1('Greater', [g.op1('Unsqueeze', [g.op1('Range', [g.ints([0], []), T, g.ints([1], [])]), g.ints([0])]), g.ints([0], [])])], { to: 1 });
      const { context, weights } = attend(g, last, K(), g.op1('Mul', [lengthMask(g, lengths, ids, 1, 1), notCls]));
      parts.push(context);
      g.op1('Identity', [weights], {}, 'piece_attention');
      g.output('piece_attention', 'float', ['batch', 'pieces']);
    } else {
      const others = g.op1('Slice', [last, g.ints([1]), g.ints([BIG]), g.ints([1])]);
      const { Yh } = onnxLstm(g, g.op1('Transpose', [others], { perm: [1, 0, 2] }), [lstm()], 'head/lstm', lengths);
      parts.push(g.op1('Squeeze', [Yh, g.ints([0])]));
    }
  } else if (model.summaryOf === 'cls-layers') {
    const clsAll = g.op1('Concat', hidden.slice(1).map((hs) => g.op1('Unsqueeze', [g.op1('Gather', [hs, g.ints([0], [])], { axis: 1 }), g.ints([1])])), { axis: 1 });
    if (model.summarizer === 'att') parts.push(attend(g, clsAll, K()).context);
    else parts.push(g.op1('Squeeze', [onnxLstm(g, g.op1('Transpose', [clsAll], { perm: [1, 0, 2] }), [lstm()], 'head/lstm').Yh, g.ints([0])]));
  }
  const h = parts.length === 1 ? parts[0] : g.op1('Concat', parts, { axis: 1 });
  g.op1('Identity', [dense(g, h, vars['head/output/kernel'], vars['head/output/bias'], 'head/output')], {}, 'logits');
  g.output('logits', 'float', ['batch', model.labels.length]);
  return g;
}

export function bertFeeds(_model: BertREModel): (batch: BertBatch) => Feeds {
  return (batch) => ({
    ids: { type: 'int64', data: BigInt64Array.from(batch.ids, (v) => BigInt(v)), dims: [batch.B, batch.T] },
    lengths: { type: 'int32', data: Int32Array.from(batch.lengths), dims: [batch.B] },
  });
}

/** A word's attention weight is the sum of its pieces' (BertREModel.forward): [B, W], W the longest word list. */
export function wordAttention(batch: BertBatch, pieceAttention: Float32Array): { attention: Float32Array; attentionDims: number[] } {
  const { B, T } = batch;
  const W = Math.max(1, ...batch.words.map((w) => w.length));
  const attention = new Float32Array(B * W);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
    const w = batch.pieceWord[b * T + t];
    if (w >= 0) attention[b * W + w] += pieceAttention[b * T + t];
  }
  return { attention, attentionDims: [B, W] };
}
