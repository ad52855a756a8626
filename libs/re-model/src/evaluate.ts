import * as tf from '@tensorflow/tfjs-core';
import { Progress, UserError } from '@biore/runtime';
import type { RelationInstance } from '@biore/re-data';
import { scoreRelations } from '@biore/metrics';
import type { REModel } from './contract.ts';
import { evalBatches } from './batches.ts';

export interface Prediction {
  label: string;
  probabilities: number[];
  words: string[];
  attention?: number[];
}

/**
 * The one precompute policy for frozen encoders (CSE, a fixed ELMo): before a pass over more instances than one
 * batch (training epochs over train + dev, scoring a split, predicting a file), the encoder runs once over all of
 * them in length-sorted batches and later batches read its vectors from the shared cache. Returns the sentences computed.
 */
export function warmFrozenEncoders(model: REModel, instances: readonly RelationInstance[], batchSize: number): number {
  return instances.length > batchSize ? model.precompute?.(instances) ?? 0 : 0;
}

/** An abort of tfjs' wasm heap (4 GB at most) or an allocation the backend could not make. */
export function isHeapExhausted(e: unknown): boolean {
  const m = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return /Aborted\(|out of memory|Cannot enlarge memory|Array buffer allocation failed|Invalid typed array length/i.test(m);
}

/** Runs the model over instances in length-sorted batches; results come back in input order. */
export function predict(model: REModel, instances: readonly RelationInstance[], batchSize = 64, opts: { attention?: boolean; progress?: string } = {}): Prediction[] {
  const out: Prediction[] = new Array(instances.length);
  warmFrozenEncoders(model, instances, batchSize);
  const progress = opts.progress ? new Progress(opts.progress, instances.length, 'sent') : undefined;
  for (const idx of evalBatches(instances.map((i) => i.tokens.length), batchSize)) {
    const batch = model.prepare(idx.map((i) => instances[i]));
    const words = model.words(batch);
    let probs: number[][], att: number[][] | undefined;
    try {
      [probs, att] = tf.tidy(() => {
        const { logits, attention } = model.forward(batch, false);
        return [tf.softmax(logits).arraySync() as number[][], opts.attention && attention ? (attention.arraySync() as number[][]) : undefined];
      });
    } catch (e) {
      if (!isHeapExhausted(e)) throw e;
      // the wasm instance is dead after an abort: no smaller batch can run in this process, so say what to change
      const longest = Math.max(...idx.map((i) => instances[i].tokens.length));
      throw new UserError(`the tfjs '${tf.getBackend()}' backend ran out of memory on a batch of ${idx.length} sentences (longest ${longest} words): pass a smaller --batch (e.g. ${Math.max(1, idx.length >> 1)}) or --engine onnx`);
    }
    idx.forEach((i, k) => {
      let best = 0;
      for (let c = 1; c < probs[k].length; c++) if (probs[k][c] > probs[k][best]) best = c;
      out[i] = { label: model.labels[best], probabilities: probs[k], words: words[k], attention: att?.[k].slice(0, words[k].length) };
    });
    progress?.tick(idx.length);
  }
  progress?.end();
  return out;
}

/** Micro P/R/F1 over the positive classes (and the rest of the report) for a model on labelled instances. */
export function evaluate(model: REModel, instances: readonly RelationInstance[], positiveLabels: readonly string[], batchSize = 64, progress?: string) {
  const preds = predict(model, instances, batchSize, { progress });
  return scoreRelations(instances.map((i) => i.label), preds.map((p) => p.label), [...positiveLabels]);
}
