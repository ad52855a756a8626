// Su & Vijay-Shanker's attention analysis (Fig. 3, Table V, Fig. 4) from a trained model's per-word attention:
// the weights of the three words either side of each entity, by Porter stem, in positive and in negative
// instances, plus a few sentences whole for the heatmaps.
import { join } from 'node:path';
import { stemmer } from 'stemmer';
import { writeJsonAtomic } from '@biore/runtime';
import { datasetInfo, sampleInstances } from '@biore/re-data';
import { loadREModel, predict, type ExperimentSpec } from '@biore/re-model';
import { datasetSplits, ensureBackend } from './re-cell.ts';

/** Words either side of an entity that count as its context (Su & Vijay-Shanker: three). */
export const CONTEXT_WORDS = 3;

const PLACEHOLDER = /^@[A-Z][A-Z-]*\$$/;
const TAG = /^<(\/?)([a-z]+)>$/;

/** [first, last] word positions of each entity: a placeholder (`@GENE$`), or a tagged span (`<gene> … </gene>`) tags included. */
export function entitySpans(words: readonly string[]): [number, number][] {
  const spans: [number, number][] = [];
  for (let i = 0; i < words.length; i++) {
    if (PLACEHOLDER.test(words[i])) spans.push([i, i]);
    const t = TAG.exec(words[i]);
    if (t && t[1] === '') {
      let j = i + 1;
      while (j < words.length && words[j] !== `</${t[2]}>`) j++;
      if (j < words.length) { spans.push([i, j]); i = j; }
    }
  }
  return spans;
}

/** Positions within CONTEXT_WORDS of an entity and not inside one, each once. */
export function contextPositions(words: readonly string[], width = CONTEXT_WORDS): number[] {
  const spans = entitySpans(words);
  const inside = (p: number) => spans.some(([a, b]) => p >= a && p <= b);
  const out = new Set<number>();
  for (const [a, b] of spans) {
    for (let p = a - width; p < a; p++) if (p >= 0 && !inside(p)) out.add(p);
    for (let p = b + 1; p <= b + width; p++) if (p < words.length && !inside(p)) out.add(p);
  }
  return [...out].sort((x, y) => x - y);
}

/** The Porter stem of a word that has a letter in it; undefined for numbers and punctuation. */
export function stemOf(word: string): string | undefined {
  const w = word.toLowerCase();
  return /[a-z]/.test(w) ? stemmer(w) : undefined;
}

/** [sum of weights, occurrences] per stem. */
export type StemWeights = Record<string, [number, number]>;

export function addContextWeights(acc: StemWeights, words: readonly string[], attention: readonly number[]): void {
  for (const p of contextPositions(words)) {
    const s = stemOf(words[p]);
    if (!s) continue;
    const e = (acc[s] ??= [0, 0]);
    e[0] += attention[p];
    e[1] += 1;
  }
}

export function mergeWeights(into: StemWeights, from: StemWeights): StemWeights {
  for (const [s, [w, n]] of Object.entries(from)) {
    const e = (into[s] ??= [0, 0]);
    e[0] += w;
    e[1] += n;
  }
  return into;
}

/** Table V: stems by mean weight, among those seen at least `minCount` times. */
export function topStems(w: StemWeights, k: number, minCount: number): { stem: string; mean: number; count: number }[] {
  return Object.entries(w).filter(([, [, n]]) => n >= minCount).map(([stem, [s, n]]) => ({ stem, mean: s / n, count: n }))
    .sort((a, b) => b.mean - a.mean || a.stem.localeCompare(b.stem)).slice(0, k);
}

export interface AttentionExample {
  words: string[];
  attention: number[];
  gold: string;
  pred: string;
}

export interface AttentionResult {
  dataset: string;
  fold?: number;
  instances: number;
  positives: number;
  /** context weights by stem in positive (gold label not the negative one) and in negative instances */
  positive: StemWeights;
  negative: StemWeights;
  /** positive test sentences the model labels correctly (else the first positive ones), for the heatmaps */
  examples: AttentionExample[];
  examplesCorrect: boolean;
}

export async function attentionCell(o: { modelDir: string; spec: ExperimentSpec; limit: number; examples: number; out: string }): Promise<AttentionResult & Record<string, unknown>> {
  const { spec } = o;
  await ensureBackend();
  const info = datasetInfo(spec.dataset);
  const s = datasetSplits(spec.dataset, spec.fold, spec.seed);
  const test = sampleInstances(s.test, o.limit || undefined, spec.seed);
  const model = await loadREModel(o.modelDir);
  const preds = predict(model, test, 64, { attention: true });
  model.dispose();
  const positive: StemWeights = {}, negative: StemWeights = {};
  const correct: AttentionExample[] = [], anyPositive: AttentionExample[] = [];
  let positives = 0;
  preds.forEach((p, i) => {
    if (!p.attention) throw new Error(`the ${spec.model.family} model in ${o.modelDir} gives no attention weights`);
    const isPos = test[i].label !== info.negativeLabel;
    addContextWeights(isPos ? positive : negative, p.words, p.attention);
    if (!isPos) return;
    positives++;
    const ex = { words: p.words, attention: p.attention.map((a) => Number(a.toFixed(5))), gold: test[i].label, pred: p.label };
    if (p.label === test[i].label && correct.length < o.examples) correct.push(ex);
    if (anyPositive.length < o.examples) anyPositive.push(ex);
  });
  const result: AttentionResult = {
    dataset: spec.dataset, fold: spec.fold, instances: test.length, positives, positive, negative,
    examples: correct.length ? correct : anyPositive, examplesCorrect: correct.length > 0,
  };
  writeJsonAtomic(join(o.out, 'attention.json'), result);
  return { ...result };
}
