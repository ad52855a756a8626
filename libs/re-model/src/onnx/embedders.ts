import { UserError } from '@biore/runtime';
import { readGloveArtifact } from '@biore/glove';
import { PAD_CHAR, tokenBatch } from '@biore/elmo';
import { CharLMEmbedder, ElmoEmbedder, GloveEmbedder, START_MARKER, END_MARKER, tokenOffsets, type Embedder } from '@biore/embeddings';
import type { CharLanguageModel } from '@biore/charlm';
import { OnnxGraph } from './graph.ts';
import { dense, dimOf, hostValues, lengthMask, lstmScan, onnxLstm } from './ops.ts';

/** One input of an ONNX graph, on the host. */
export interface HostInput {
  type: 'float32' | 'int64' | 'int32';
  data: Float32Array | BigInt64Array | Int32Array;
  dims: number[];
}
export type Feeds = Record<string, HostInput>;

/**
 * An embedder in ONNX: `graph` adds its tensor math to g (inputs named with `prefix`) and returns [B, T, E];
 * `feed` is its host-side half (ids, character ids, word-boundary picks), for a batch of sentences padded to T.
 * `lengths` is the graph's int32 [B] input of sentence lengths.
 */
export interface EmbedderExport {
  graph(g: OnnxGraph, prefix: string, lengths: string): string;
  feed(sentences: readonly (readonly string[])[], T: number, prefix: string): Feeds;
}

const i64 = (n: number) => new BigInt64Array(n);

/** GloVe: a Gather over the (possibly fine-tuned) table plus a zero row; out-of-vocabulary vectors come in as a float input. */
function gloveExport(e: GloveEmbedder): EmbedderExport {
  const D = e.embeddingLength, V = e.vocabSize;
  return {
    graph(g, prefix) {
      const trained = e.trainableVariables()[0];
      const matrix = trained ? hostValues(trained) : readGloveArtifact(e.path).matrix;
      const table = new Float32Array((V + 1) * D);
      table.set(matrix.subarray(0, V * D));
      const ids = g.input(`${prefix}ids`, 'int64', ['batch', 'time']);
      const oov = g.input(`${prefix}oov`, 'float', ['batch', 'time', D]);
      return g.op1('Add', [g.op1('Gather', [g.weight(`${prefix}glove`, table, [V + 1, D]), ids], { axis: 0 }), oov]);
    },
    feed(sentences, T, prefix) {
      const B = sentences.length;
      const ids = i64(B * T).fill(BigInt(V));
      const oov = new Float32Array(B * T * D);
      sentences.forEach((s, b) => s.forEach((w, t) => {
        const i = e.lookup(w);
        if (i >= 0) ids[b * T + t] = BigInt(i);
        else oov.set(e.vector(w), (b * T + t) * D);
      }));
      return { [`${prefix}ids`]: { type: 'int64', data: ids, dims: [B, T] }, [`${prefix}oov`]: { type: 'float32', data: oov, dims: [B, T, D] } };
    },
  };
}

/** One character LM: embedding → LSTM layers (ONNX LSTM) → optional projection, then its outputs picked at the word boundaries. */
function charLmGraph(g: OnnxGraph, lm: CharLanguageModel, chars: string, pick: string, hint: string): string {
  let x = g.op1('Transpose', [g.op1('Gather', [g.weight(`${hint}/encoder`, hostValues(lm.encoder.table), lm.encoder.table.shape), chars], { axis: 0 })], { perm: [1, 0, 2] });
  lm.rnn.forEach((layer, l) => {
    const { Y } = onnxLstm(g, x, [layer], `${hint}/rnn${l}`);
    x = g.op1('Squeeze', [Y, g.ints([1])]);
  });
  if (lm.proj) x = dense(g, x, lm.proj.kernel, lm.proj.bias, `${hint}/proj`);
  const P = lm.outputSize;
  const flat = g.op1('Reshape', [g.op1('Transpose', [x], { perm: [1, 0, 2] }), g.ints([-1, P])]);
  const withZero = g.op1('Concat', [flat, g.floats(new Array(P).fill(0), [1, P])], { axis: 0 });
  return g.op1('Gather', [withZero, pick], { axis: 0 });
}

/** The character ids an LM reads (padded with spaces) and, per word, the flat row its vector is read from (past the end: the zero row). */
function charLmFeed(lm: CharLanguageModel, texts: string[][], picks: number[][], T: number, prefix: string): Feeds {
  const B = texts.length;
  const L = Math.max(1, ...texts.map((t) => t.length));
  const ids = i64(B * L).fill(BigInt(lm.dictionary.idOf(' ')));
  texts.forEach((t, b) => t.forEach((ch, i) => { ids[b * L + i] = BigInt(lm.dictionary.idOf(ch)); }));
  const pick = i64(B * T).fill(BigInt(B * L));
  picks.forEach((p, b) => p.forEach((pos, t) => { pick[b * T + t] = BigInt(b * L + pos); }));
  return { [`${prefix}chars`]: { type: 'int64', data: ids, dims: [B, L] }, [`${prefix}pick`]: { type: 'int64', data: pick, dims: [B, T] } };
}

/** CSE (Akbik et al.): the forward LM's state after each word's last character ++ the backward LM's after its first. */
function cseExport(e: CharLMEmbedder): EmbedderExport {
  return {
    graph(g, prefix) {
      const side = (lm: CharLanguageModel, dir: string) =>
        charLmGraph(g, lm, g.input(`${prefix}${dir}.chars`, 'int64', ['batch', `${prefix}${dir}.length`]), g.input(`${prefix}${dir}.pick`, 'int64', ['batch', 'time']), `${prefix}${dir}`);
      return g.op1('Concat', [side(e.forwardLm, 'fw'), side(e.backwardLm, 'bw')], { axis: 2 });
    },
    feed(sentences, T, prefix) {
      const offs = sentences.map((s) => tokenOffsets(s));
      return {
        ...charLmFeed(e.forwardLm, offs.map((o) => [...START_MARKER, ...o.text, ...END_MARKER]), offs.map((o) => o.forward), T, `${prefix}fw.`),
        ...charLmFeed(e.backwardLm, offs.map((o) => [...START_MARKER, ...o.text.slice().reverse(), ...END_MARKER]), offs.map((o) => o.backward), T, `${prefix}bw.`),
      };
    },
  };
}

/** bilm-tf's char CNN, highway layers and projection over the batch's distinct token types [U, chars] → [U, P]. */
function elmoTokenGraph(g: OnnxGraph, e: ElmoEmbedder, types: string, hint: string): string {
  const { cnn, highway, projection } = e.bilm;
  const d = cnn.cfg.charDim;
  const chars = g.op1('Transpose', [g.op1('Gather', [g.weight(`${hint}/char_embed`, hostValues(cnn.charEmbed), cnn.charEmbed.shape), types], { axis: 0 })], { perm: [0, 2, 1] });
  const pooled = cnn.cfg.filters.map(([w, n], i) => {
    // nn keeps kernels [width, charDim, count]; ONNX Conv wants [count, charDim, width]
    const k = hostValues(cnn.kernels[i]);
    const W = new Float32Array(n * d * w);
    for (let s = 0; s < w; s++) for (let c = 0; c < d; c++) for (let o = 0; o < n; o++) W[(o * d + c) * w + s] = k[(s * d + c) * n + o];
    const conv = g.op1('Conv', [chars, g.weight(`${hint}/cnn${i}/W`, W, [n, d, w]), g.weight(`${hint}/cnn${i}/b`, hostValues(cnn.biases[i]), [n])], { kernel_shape: [w] });
    return g.op1(cnn.activation === 'relu' ? 'Relu' : 'Tanh', [g.op1('ReduceMax', [conv], { axes: [2], keepdims: 0 })]);
  });
  let x = pooled.length === 1 ? pooled[0] : g.op1('Concat', pooled, { axis: 1 });
  highway?.layers.forEach((l, i) => {
    const carry = g.op1('Sigmoid', [dense(g, x, l.W_carry, l.b_carry, `${hint}/highway${i}/carry`)]);
    const transform = g.op1('Relu', [dense(g, x, l.W_transform, l.b_transform, `${hint}/highway${i}/transform`)]);
    x = g.op1('Add', [x, g.op1('Mul', [carry, g.op1('Sub', [transform, x])])]);
  });
  return projection ? dense(g, x, projection.kernel, projection.bias, `${hint}/proj`) : x;
}

/**
 * ELMo (Peters et al.): per batch, the char CNN over the distinct token types, the forward and backward stacks of
 * projected LSTMs (ONNX Scan; the backward one reads each sentence reversed within its own length, through host
 * index inputs), the skip connections, and the scalar mix of token ++ token and each layer's forward ++ backward,
 * `<S>` and `</S>` stripped.
 */
function elmoExport(e: ElmoEmbedder): EmbedderExport {
  const bilm = e.bilm;
  const P = bilm.dim;
  return {
    graph(g, prefix, lengths) {
      const types = g.input(`${prefix}types`, 'int64', [`${prefix}types`, `${prefix}chars`]);
      const index = g.input(`${prefix}index`, 'int64', ['batch', `${prefix}time`]);
      const rev = g.input(`${prefix}reverse`, 'int64', [`${prefix}steps`]);
      const unrev = g.input(`${prefix}unreverse`, 'int64', [`${prefix}steps`]);
      const mask2 = g.op1('Unsqueeze', [lengthMask(g, lengths, index, 1, 2), g.ints([2])]);
      const token = g.op1('Mul', [g.op1('Gather', [elmoTokenGraph(g, e, types, `${prefix}elmo`), index], { axis: 0 }), mask2]);
      const Bd = dimOf(g, index, 0), Td = dimOf(g, index, 1);
      const timeMajorShape = g.op1('Concat', [Td, Bd, g.ints([P])], { axis: 0 });
      const batchMajorShape = g.op1('Concat', [Bd, Td, g.ints([P])], { axis: 0 });
      const flat = (x: string) => g.op1('Reshape', [x, g.ints([-1, P])]);
      const stack = (layers: typeof bilm.forwardLayers, reverse: boolean, dir: string) => {
        const outs: string[] = [];
        let x = token;
        layers.forEach((lstm, l) => {
          const xTm = reverse ? g.op1('Reshape', [g.op1('Gather', [flat(x), rev], { axis: 0 }), timeMajorShape]) : g.op1('Transpose', [x], { perm: [1, 0, 2] });
          const ys = lstmScan(g, xTm, lstm, `${prefix}${dir}${l}`);
          let y = reverse ? g.op1('Reshape', [g.op1('Gather', [flat(ys), unrev], { axis: 0 }), batchMajorShape]) : g.op1('Transpose', [ys], { perm: [1, 0, 2] });
          y = g.op1('Mul', [y, mask2]);
          if (l > 0 && bilm.options.lstm.use_skip_connections) y = g.op1('Mul', [g.op1('Add', [y, x]), mask2]);
          outs.push(y);
          x = y;
        });
        return outs;
      };
      const fw = stack(bilm.forwardLayers, false, 'fw'), bw = stack(bilm.backwardLayers, true, 'bw');
      const layers = [g.op1('Concat', [token, token], { axis: 2 }), ...fw.map((f, l) => g.op1('Concat', [f, bw[l]], { axis: 2 }))];
      const { normalized, gamma } = e.mix.values();
      const strip = (x: string) => g.op1('Slice', [x, g.ints([1]), g.ints([-1]), g.ints([1])]);
      const stripped = layers.map(strip);
      const keep = g.op1('Unsqueeze', [lengthMask(g, lengths, stripped[0], 1), g.ints([2])]);
      const mixed = g.op1('Sum', stripped.map((x, k) => g.op1('Mul', [x, g.floats([normalized[k]])])));
      return g.op1('Mul', [g.op1('Mul', [mixed, keep]), g.floats([gamma])]);
    },
    feed(sentences, T, prefix) {
      const B = sentences.length, T2 = T + 2;
      const batch = tokenBatch(sentences.map((s) => ['<S>', ...s, '</S>']), bilm.maxChars, T2);
      // trailing all-padding character columns change no max-pooled value (elmo's trimPadding); keep maxWidth of them
      const C = bilm.maxChars;
      let K = 0;
      for (let u = 0; u < batch.types; u++) {
        let k = C;
        while (k > 0 && (batch.typeIds[u * C + k - 1] === PAD_CHAR + 1 || batch.typeIds[u * C + k - 1] === 0)) k--;
        K = Math.max(K, k);
      }
      const Ct = Math.min(C, K + bilm.maxWidth);
      const types = i64(batch.types * Ct);
      for (let u = 0; u < batch.types; u++) for (let c = 0; c < Ct; c++) types[u * Ct + c] = BigInt(batch.typeIds[u * C + c]);
      const index = BigInt64Array.from(batch.index, (v) => BigInt(v));
      // the backward LSTM's time-major input row for (t, b), and where its output row goes back to (as nn's LSTM)
      const rev = i64(T2 * B), unrev = i64(B * T2);
      batch.lengths.forEach((len, b) => {
        for (let t = 0; t < T2; t++) {
          const src = t < len ? len - 1 - t : t;
          rev[t * B + b] = BigInt(b * T2 + src);
          unrev[b * T2 + src] = BigInt(t * B + b);
        }
      });
      return {
        [`${prefix}types`]: { type: 'int64', data: types, dims: [batch.types, Ct] },
        [`${prefix}index`]: { type: 'int64', data: index, dims: [B, T2] },
        [`${prefix}reverse`]: { type: 'int64', data: rev, dims: [T2 * B] },
        [`${prefix}unreverse`]: { type: 'int64', data: unrev, dims: [B * T2] },
      };
    },
  };
}

/** The ONNX half of an embedder of the lite model's stack. */
export function embedderExport(e: Embedder): EmbedderExport {
  if (e instanceof GloveEmbedder) return gloveExport(e);
  if (e instanceof CharLMEmbedder) return cseExport(e);
  if (e instanceof ElmoEmbedder) return elmoExport(e);
  throw new UserError(`the '${e.name}' embedding has no ONNX export (GloVe, CSE and ELMo have)`);
}
