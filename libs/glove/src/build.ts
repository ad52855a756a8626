import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { JsonlWriter, Progress, UserError } from '@biore/runtime';
import type { TextSource } from './source.ts';
import { countVocab, readVocab, writeVocab } from './vocab.ts';
import { countCooccurrences } from './cooccur.ts';
import { shuffleCooccurrences } from './shuffle.ts';
import { RecordReader } from './records.ts';
import { trainGlove, wordVectors, type IterationReport } from './train.ts';
import { markStageDone, stageKey, stageUpToDate } from './stage.ts';
import { writeGloveArtifact, writeGloveText, type GloveVectorsConfig } from './vectors.ts';

export interface GloveBuildOptions {
  dim: number;
  window: number;
  minCount: number;
  /** 0 = no limit */
  maxVocab: number;
  xMax: number;
  alpha: number;
  eta: number;
  iterations: number;
  threads: number;
  seed: number;
  /** memory budget of the counting and shuffling stages, MB */
  memoryMB: number;
  /** keep case (default: lowercase every token, as the embedder then does) */
  cased: boolean;
  /** continue training from the last per-iteration checkpoint */
  resume: boolean;
  /** rerun every stage even when its output is up to date */
  force: boolean;
  quiet: boolean;
}

export const defaultBuildOptions: GloveBuildOptions = {
  dim: 100, window: 15, minCount: 5, maxVocab: 0, xMax: 10, alpha: 0.75, eta: 0.05, iterations: 15, threads: 2,
  seed: 42, memoryMB: 1024, cased: false, resume: false, force: false, quiet: false,
};

export interface GloveBuildResult {
  dir: string;
  vocabSize: number;
  tokens: number;
  records: number;
  /** wall seconds per stage in this run; a skipped stage is absent */
  seconds: { vocab?: number; cooccur?: number; shuffle?: number; train?: number };
  /** CPU seconds (user + system, all threads of the process) per stage: the fair figure on a shared machine */
  cpuSeconds: { vocab?: number; cooccur?: number; shuffle?: number; train?: number };
  history: IterationReport[];
  skipped: string[];
}

const TOKENIZER = '@biore/text words() v1';

/**
 * The four stages of Stanford GloVe with files between them, in `dir`:
 * vocab.txt → cooccur.bin → cooccur.shuf.bin → vectors (vectors.txt, vectors.bin, words.txt, config.json).
 * Each stage is skipped when its output exists and its `.stage.json` key matches inputs and options.
 */
export async function buildGlove(source: TextSource, dir: string, opts: Partial<GloveBuildOptions> = {}): Promise<GloveBuildResult> {
  const o: GloveBuildOptions = { ...defaultBuildOptions, ...opts };
  for (const [k, v] of Object.entries({ dim: o.dim, window: o.window, minCount: o.minCount, iterations: o.iterations, threads: o.threads })) {
    if (!Number.isInteger(v) || v < 1) throw new UserError(`--${k} must be a positive integer, got ${v}`);
  }
  if (!(o.xMax > 0) || !(o.alpha > 0) || !(o.eta > 0) || !(o.memoryMB > 0)) throw new UserError('x-max, alpha, eta and memory must be positive');
  mkdirSync(dir, { recursive: true });
  const metrics = new JsonlWriter(join(dir, 'metrics.jsonl'));
  const log = (s: string) => { if (!o.quiet) process.stderr.write(s + '\n'); };
  const result: GloveBuildResult = { dir, vocabSize: 0, tokens: 0, records: 0, seconds: {}, cpuSeconds: {}, history: [], skipped: [] };

  const vocabPath = join(dir, 'vocab.txt');
  const coocPath = join(dir, 'cooccur.bin');
  const shufPath = join(dir, 'cooccur.shuf.bin');
  const configPath = join(dir, 'config.json');
  const vocabKey = stageKey({ stage: 'vocab', source: source.description, minCount: o.minCount, maxVocab: o.maxVocab, cased: o.cased, tokenizer: TOKENIZER });
  const coocKey = stageKey({ stage: 'cooccur', vocabKey, window: o.window });
  const shufKey = stageKey({ stage: 'shuffle', coocKey, seed: o.seed });
  const trainKeyNoIter = stageKey({ stage: 'train', shufKey, dim: o.dim, xMax: o.xMax, alpha: o.alpha, eta: o.eta, seed: o.seed });
  const trainKey = stageKey({ trainKeyNoIter, iterations: o.iterations });
  const fresh = (out: string, key: string) => !o.force && stageUpToDate(out, key);
  const cpu = (c0: NodeJS.CpuUsage) => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e6; };
  const stageInfo = (out: string) => JSON.parse(readFileSync(out + '.stage.json', 'utf8')) as Record<string, number>;

  const trainDone = fresh(configPath, trainKey);
  const shufDone = trainDone || fresh(shufPath, shufKey);
  const coocDone = shufDone || fresh(coocPath, coocKey);

  // 1. vocab_count
  let vocab;
  if (fresh(vocabPath, vocabKey)) {
    vocab = readVocab(vocabPath);
    result.tokens = stageInfo(vocabPath).tokens ?? 0;
    result.skipped.push('vocab');
  } else {
    const t0 = performance.now(), c0 = process.cpuUsage();
    const p = new Progress('vocab: tokens', 0, 'tokens', o.quiet);
    const v = await countVocab(source, { minCount: o.minCount, maxVocab: o.maxVocab, cased: o.cased, onProgress: (n) => p.tick(n) });
    p.end();
    if (v.words.length === 0) throw new UserError(`no word occurs ${o.minCount} times or more (${v.tokens} tokens read); lower --min-count or give a larger corpus`);
    await writeVocab(vocabPath, v);
    result.seconds.vocab = (performance.now() - t0) / 1000;
    result.cpuSeconds.vocab = cpu(c0);
    markStageDone(vocabPath, vocabKey, { tokens: v.tokens, types: v.types, vocabSize: v.words.length });
    metrics.write({ stage: 'vocab', seconds: result.seconds.vocab, tokens: v.tokens, types: v.types, vocabSize: v.words.length });
    log(`vocab: ${v.tokens} tokens, ${v.types} types, ${v.words.length} with count >= ${o.minCount}`);
    vocab = v;
    result.tokens = v.tokens;
  }
  result.vocabSize = vocab.words.length;

  // 2. cooccur
  if (coocDone) result.skipped.push('cooccur');
  else {
    const t0 = performance.now(), c0 = process.cpuUsage();
    const p = new Progress('cooccur: tokens', result.tokens, 'tokens', o.quiet);
    const s = await countCooccurrences(source, vocab, coocPath, { window: o.window, cased: o.cased, memoryMB: o.memoryMB, onProgress: (n) => p.tick(n) });
    p.end();
    result.seconds.cooccur = (performance.now() - t0) / 1000;
    result.cpuSeconds.cooccur = cpu(c0);
    markStageDone(coocPath, coocKey, { ...s });
    metrics.write({ stage: 'cooccur', seconds: result.seconds.cooccur, ...s });
    log(`cooccur: ${s.records} non-zero pairs, ${s.spills} spill file(s), dense block ${s.denseEntries} entries`);
  }

  // 3. shuffle
  if (shufDone) result.skipped.push('shuffle');
  else {
    const t0 = performance.now(), c0 = process.cpuUsage();
    const total = RecordReader.count(coocPath);
    const p = new Progress('shuffle: records', total, 'records', o.quiet);
    const s = shuffleCooccurrences(coocPath, shufPath, { seed: o.seed, memoryMB: o.memoryMB, onProgress: (n) => p.tick(n) });
    p.end();
    result.seconds.shuffle = (performance.now() - t0) / 1000;
    result.cpuSeconds.shuffle = cpu(c0);
    markStageDone(shufPath, shufKey, { ...s });
    metrics.write({ stage: 'shuffle', seconds: result.seconds.shuffle, ...s });
  }

  // 4. glove
  if (trainDone) {
    result.skipped.push('train');
    const cfg = JSON.parse(readFileSync(configPath, 'utf8')) as { history?: IterationReport[]; records?: number };
    result.history = cfg.history ?? [];
    result.records = cfg.records ?? 0;
    return result;
  }
  const records = stageInfo(shufPath).records ?? 0;
  result.records = records;
  const t0 = performance.now(), c0 = process.cpuUsage();
  const checkpointDir = join(dir, 'checkpoint');
  if (!o.resume) rmSync(checkpointDir, { recursive: true, force: true });
  mkdirSync(checkpointDir, { recursive: true });
  let p = new Progress(`glove: iteration 1/${o.iterations}`, records, 'records', o.quiet);
  const { params, history } = await trainGlove(shufPath, vocab.words.length, {
    dim: o.dim, iterations: o.iterations, threads: o.threads, seed: o.seed, xMax: o.xMax, alpha: o.alpha, eta: o.eta,
    checkpointDir, resume: o.resume, key: trainKeyNoIter,
    onProgress: (n) => p.tick(n),
    onIteration: (r) => {
      p.end(`cost ${r.cost.toFixed(6)}`);
      metrics.write({ stage: 'train', ...r });
      if (r.iteration < o.iterations) p = new Progress(`glove: iteration ${r.iteration + 1}/${o.iterations}`, records, 'records', o.quiet);
    },
  });
  result.seconds.train = (performance.now() - t0) / 1000;
  result.cpuSeconds.train = cpu(c0);
  result.history = history;
  const matrix = wordVectors(params);
  const vectors = { words: vocab.words, matrix, dim: o.dim };
  writeGloveText(join(dir, 'vectors.txt'), vectors);
  const config: Omit<GloveVectorsConfig, 'format' | 'version' | 'dim' | 'vocabSize'> = {
    lowercase: !o.cased,
    vectors: 'W+W~',
    tokenizer: TOKENIZER,
    corpus: source.description.split('\n')[0],
    options: { ...o, resume: undefined, force: undefined, quiet: undefined },
    tokens: result.tokens,
    records,
    finalCost: history[history.length - 1]?.cost,
    history,
  };
  writeGloveArtifact(dir, vectors, config);
  markStageDone(configPath, trainKey, { records });
  return result;
}
