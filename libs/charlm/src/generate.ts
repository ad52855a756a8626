import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@biore/runtime';
import { disposeState, type CharLanguageModel } from './model.ts';

/**
 * Samples `length` characters after `prefix` (flair's generate_text): softmax at `temperature`,
 * one character at a time, the state carried. A backward LM samples right to left and the text is
 * returned in reading order. Returns the text and the mean negative log-likelihood per sampled character.
 */
export function generateText(model: CharLanguageModel, rng: Rng, opts: { prefix?: string; length?: number; temperature?: number } = {}): { text: string; nll: number } {
  const dict = model.dictionary;
  const fw = model.config.isForwardLm;
  let prefix = opts.prefix || model.config.documentDelimiter;
  const prefixChars = [...prefix];
  if (!fw) prefix = prefixChars.reverse().join('');
  const n = opts.length ?? 200;
  const temp = opts.temperature ?? 1;
  const ids = dict.encode(prefix);
  let state = model.zeroState(1);
  const out: number[] = [];
  let nll = 0;
  let input = ids;
  for (let i = 0; i < n; i++) {
    const L = model.rnn.length;
    const [logpT, scaledT, ...hc] = tf.tidy(() => {
      const f = model.forward(tf.tensor2d(input, [1, input.length], 'int32'), state);
      const logits = model.decode(tf.slice(f.output, [0, input.length - 1, 0], [1, 1, model.outputSize]));
      return [tf.logSoftmax(logits), tf.softmax(tf.div(logits, temp)), ...f.state.h, ...f.state.c];
    });
    const r = { logp: logpT.dataSync() as Float32Array, scaled: scaledT.dataSync() as Float32Array };
    tf.dispose([logpT, scaledT]);
    disposeState(state);
    state = { h: hc.slice(0, L) as tf.Tensor2D[], c: hc.slice(L) as tf.Tensor2D[] };
    // never sample <unk> (index 0): it has no text
    let total = 0;
    for (let k = 1; k < r.scaled.length; k++) total += r.scaled[k];
    let u = rng.next() * total;
    let pick = r.scaled.length - 1;
    for (let k = 1; k < r.scaled.length; k++) {
      u -= r.scaled[k];
      if (u <= 0) { pick = k; break; }
    }
    nll -= r.logp[pick];
    out.push(pick);
    input = Int32Array.of(pick);
  }
  disposeState(state);
  const sampled = dict.decode(out);
  const text = fw ? opts.prefix + sampled : [...sampled].reverse().join('') + (opts.prefix ?? '');
  return { text, nll: nll / Math.max(1, n) };
}
