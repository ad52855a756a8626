import { StackedEmbedder } from '@biore/embeddings';
import type { LiteBatch, LiteREModel } from '../lite.ts';
import { OnnxGraph } from './graph.ts';
import { embedderExport, type Feeds } from './embedders.ts';
import { dense, hostValues, lengthMask, lstmWeightsByName, maskedSoftmax, onnxLstm } from './ops.ts';

/** The lite model's embedders, in stack order, with the prefix of their graph inputs. */
function members(model: LiteREModel) {
  const e = model.embedder;
  return (e instanceof StackedEmbedder ? e.members : [e]).map((m, k) => ({ prefix: `m${k}.`, exp: embedderExport(m) }));
}

/**
 * The lite model (Hiai et al.) as one ONNX graph: every embedder of its stack, their concatenation, the BiLSTM
 * (ONNX LSTM, bidirectional, with sequence lengths), Zhou et al.'s attention and the softmax layer's logits.
 * Inputs: `lengths` int32 [B] and each embedder's own; outputs `logits` [B, labels] and `attention` [B, T].
 */
export function liteGraph(model: LiteREModel): OnnxGraph {
  const g = new OnnxGraph('lite');
  const vars = model.trainableVariables();
  const lengths = g.input('lengths', 'int32', ['batch']);
  const parts = members(model).map(({ prefix, exp }) => exp.graph(g, prefix, lengths));
  const x = parts.length === 1 ? parts[0] : g.op1('Concat', parts, { axis: 2 });
  const fw = lstmWeightsByName(vars, 'bilstm/fw'), bw = lstmWeightsByName(vars, 'bilstm/bw');
  const H = fw.cfg.hiddenSize;
  const { Y } = onnxLstm(g, g.op1('Transpose', [x], { perm: [1, 0, 2] }), [fw, bw], 'bilstm', lengths);
  // Y [T, 2, B, H] → h [B, T, 2H] = [fw; bw] per word, zero past each length
  const mask = lengthMask(g, lengths, x, 1);
  const hRaw = g.op1('Reshape', [g.op1('Transpose', [Y], { perm: [2, 0, 1, 3] }), g.ints([0, 0, 2 * H])]);
  const h = g.op1('Mul', [hRaw, g.op1('Unsqueeze', [mask, g.ints([2])])]);
  const omega = g.weight('attention/omega', hostValues(vars['attention/omega']), [2 * H, 1]);
  const scores = g.op1('Squeeze', [g.op1('MatMul', [g.op1('Tanh', [h]), omega]), g.ints([2])]);
  const attention = maskedSoftmax(g, scores, mask);
  g.op1('Identity', [attention], {}, 'attention');
  const context = g.op1('ReduceSum', [g.op1('Mul', [g.op1('Unsqueeze', [attention, g.ints([2])]), h]), g.ints([1])], { keepdims: 0 });
  g.op1('Identity', [dense(g, g.op1('Tanh', [context]), vars['output/kernel'], vars['output/bias'], 'output')], {}, 'logits');
  g.output('logits', 'float', ['batch', model.labels.length]);
  g.output('attention', 'float', ['batch', 'time']);
  return g;
}

/** The host half: the graph inputs of a prepared batch. */
export function liteFeeds(model: LiteREModel): (batch: LiteBatch) => Feeds {
  const ms = members(model);
  return (batch) => {
    const T = Math.max(1, ...batch.lengths);
    const feeds: Feeds = { lengths: { type: 'int32', data: Int32Array.from(batch.lengths), dims: [batch.lengths.length] } };
    for (const { prefix, exp } of ms) Object.assign(feeds, exp.feed(batch.words, T, prefix));
    return feeds;
  };
}
