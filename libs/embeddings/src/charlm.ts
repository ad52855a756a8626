import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, artifactDir } from '@biore/runtime';
import { CharLanguageModel, disposeState, isFlairLanguageModelPath, loadFlairLanguageModel } from '@biore/charlm';
import { registerEmbedderType, type Embedder, type EmbedderSpec } from './embedder.ts';
import { SentenceCache } from './sentence-cache.ts';

export interface CharLMEmbedderOptions {
  /** characters fed to an LM at once; longer texts go in chunks with the state carried over (flair: 512) */
  charsPerChunk?: number;
  /** sentences run through the LMs together */
  batchSize?: number;
  /** the folders the LMs were loaded from, recorded by describe() */
  forwardDir?: string;
  backwardDir?: string;
  /**
   * memory for remembering sentences' vectors (the LMs are frozen, so a sentence seen again, as in every
   * epoch of RE training, gets the same vectors without running the LMs); 0 turns it off. Default 4096 MB.
   */
  cacheMB?: number;
}

/** flair's markers around each sentence's text: the document delimiter before, a space after. */
export const START_MARKER = '\n';
export const END_MARKER = ' ';

/**
 * Where each token's vector is read, in code points of the marked text each LM reads (flair's
 * FlairEmbeddings without whitespace): the forward LM's output after the token's last character of
 * START_MARKER + tokens.join(' ') + END_MARKER, and the backward LM's output after the token's first
 * character of START_MARKER + reverse(text) + END_MARKER.
 */
export function tokenOffsets(tokens: readonly string[]): { text: string[]; forward: number[]; backward: number[] } {
  const text: string[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  tokens.forEach((tok, i) => {
    if (i > 0) text.push(' ');
    starts.push(text.length);
    for (const ch of tok) text.push(ch);
    ends.push(text.length - 1);
  });
  const n = text.length;
  const m = START_MARKER.length;
  return {
    text,
    // an empty token reads the state before it, as flair's arithmetic does
    forward: ends.map((e) => m + e),
    backward: starts.map((s) => m + (n - 1 - s)),
  };
}

/**
 * Contextual string embeddings (Akbik et al. 2018): per word, the forward LM's hidden state after its
 * last character concatenated with the backward LM's after its first (the mirrored position).
 * The LMs are frozen.
 */
export class CharLMEmbedder implements Embedder {
  readonly name = 'cse';
  readonly embeddingLength: number;
  private readonly charsPerChunk: number;
  private readonly batchSize: number;
  private readonly cache: SentenceCache;

  constructor(readonly forwardLm: CharLanguageModel, readonly backwardLm: CharLanguageModel, private readonly opts: CharLMEmbedderOptions = {}) {
    if (!forwardLm.config.isForwardLm) throw new UserError('the first LM of a CSE embedding must be a forward LM', { file: opts.forwardDir });
    if (backwardLm.config.isForwardLm) throw new UserError('the second LM of a CSE embedding must be a backward LM', { file: opts.backwardDir });
    this.embeddingLength = forwardLm.outputSize + backwardLm.outputSize;
    this.charsPerChunk = opts.charsPerChunk ?? 512;
    this.batchSize = opts.batchSize ?? 32;
    if (!(this.charsPerChunk >= 1 && this.batchSize >= 1)) throw new UserError('charsPerChunk and batchSize must be at least 1');
    this.cache = SentenceCache.fromMB(opts.cacheMB ?? 4096);
  }

  /** Each LM from one of our LM folders or from a flair LM file (`.pt`, as FlairEmbeddings loads it). */
  static load(forwardDir = artifactDir('cse-lm/forward'), backwardDir = artifactDir('cse-lm/backward'), opts: Omit<CharLMEmbedderOptions, 'forwardDir' | 'backwardDir'> = {}): CharLMEmbedder {
    return new CharLMEmbedder(loadCharLM(forwardDir), loadCharLM(backwardDir), { ...opts, forwardDir, backwardDir });
  }

  /**
   * The outputs of one LM over marked texts (already in the LM's reading order), [n, L, outputSize],
   * padded on the right with spaces, run in chunks with the state carried.
   */
  private represent(lm: CharLanguageModel, texts: string[][]): tf.Tensor3D {
    return tf.tidy(() => {
      const B = texts.length;
      const L = Math.max(...texts.map((t) => t.length));
      const pad = lm.dictionary.idOf(' ');
      const ids = new Int32Array(B * L).fill(pad);
      texts.forEach((t, b) => t.forEach((ch, i) => { ids[b * L + i] = lm.dictionary.idOf(ch); }));
      let state = lm.zeroState(B);
      const parts: tf.Tensor3D[] = [];
      for (let s = 0; s < L; s += this.charsPerChunk) {
        const len = Math.min(this.charsPerChunk, L - s);
        const chunk = new Int32Array(B * len);
        for (let b = 0; b < B; b++) chunk.set(ids.subarray(b * L + s, b * L + s + len), b * len);
        const r = lm.forward(tf.tensor2d(chunk, [B, len], 'int32'), state);
        disposeState(state);
        state = r.state;
        parts.push(r.output);
      }
      return parts.length === 1 ? parts[0] : (tf.concat(parts, 1) as tf.Tensor3D);
    });
  }

  /** Reads rows `index` (into [n·L] flattened outputs, or -1 for a zero row). */
  private static pick(out: tf.Tensor3D, index: Int32Array): tf.Tensor2D {
    return tf.tidy(() => {
      const [n, L, H] = out.shape;
      const flat = tf.concat([tf.reshape(out, [n * L, H]), tf.zeros([1, H])], 0);
      const idx = index.map((i) => (i < 0 ? n * L : i));
      return tf.gather(flat, tf.tensor1d(idx, 'int32')) as tf.Tensor2D;
    });
  }

  /**
   * [B, T, E] for a batch: sentences seen before come from the cache, the others are run through the LMs
   * (results do not depend on batch composition, so cached and fresh vectors are the same).
   */
  embed(sentences: readonly (readonly string[])[]): tf.Tensor3D {
    if (!this.cache.enabled) return this.run(sentences);
    const E = this.embeddingLength;
    const T = Math.max(0, ...sentences.map((s) => s.length));
    const rows = this.cache.lookup(sentences, (missing) => this.hostRows(missing));
    const buf = new Float32Array(sentences.length * T * E);
    rows.forEach((v, b) => buf.set(v, b * T * E));
    return tf.tensor3d(buf, [sentences.length, T, E]);
  }

  /**
   * Runs the LMs ahead of training over sentences not cached yet, shortest first, so that every later
   * `embed` of them is a cache read (no-op when the cache is disabled).
   */
  precompute(sentences: readonly (readonly string[])[]): number {
    return this.cache.enabled ? this.cache.fill(sentences, (batch) => this.hostRows(batch), this.batchSize, 'cse precompute') : 0;
  }

  /** Each sentence's [length, E] vectors on the host. */
  private hostRows(sentences: (readonly string[])[]): Float32Array[] {
    const E = this.embeddingLength;
    const out = this.run(sentences);
    const data = out.dataSync() as Float32Array;
    const Tm = out.shape[1];
    out.dispose();
    return sentences.map((s, i) => data.slice(i * Tm * E, (i * Tm + s.length) * E));
  }

  private run(sentences: readonly (readonly string[])[]): tf.Tensor3D {
    return tf.tidy(() => {
      const T = Math.max(0, ...sentences.map((s) => s.length));
      const E = this.embeddingLength;
      if (sentences.length === 0 || T === 0) return tf.zeros([sentences.length, T, E]) as tf.Tensor3D;
      const rows: tf.Tensor[] = [];
      for (let b0 = 0; b0 < sentences.length; b0 += this.batchSize) {
        const batch = sentences.slice(b0, b0 + this.batchSize);
        const offs = batch.map((s) => tokenOffsets(s));
        const fwTexts = offs.map((o) => [...START_MARKER, ...o.text, ...END_MARKER]);
        const bwTexts = offs.map((o) => [...START_MARKER, ...o.text.slice().reverse(), ...END_MARKER]);
        const fw = this.represent(this.forwardLm, fwTexts);
        const bw = this.represent(this.backwardLm, bwTexts);
        const fwIdx = new Int32Array(batch.length * T).fill(-1);
        const bwIdx = new Int32Array(batch.length * T).fill(-1);
        const Lf = fw.shape[1];
        const Lb = bw.shape[1];
        offs.forEach((o, b) => o.forward.forEach((p, t) => {
          fwIdx[b * T + t] = b * Lf + p;
          bwIdx[b * T + t] = b * Lb + o.backward[t];
        }));
        rows.push(tf.reshape(tf.concat([CharLMEmbedder.pick(fw, fwIdx), CharLMEmbedder.pick(bw, bwIdx)], 1), [batch.length, T, E]));
      }
      return (rows.length === 1 ? rows[0] : tf.concat(rows, 0)) as tf.Tensor3D;
    });
  }

  trainableVariables(): tf.Variable[] {
    return [];
  }

  describe(): EmbedderSpec {
    if (!this.opts.forwardDir || !this.opts.backwardDir) {
      throw new UserError('this CSE embedding was built from LMs in memory; save them and load with CharLMEmbedder.load to describe it');
    }
    return { type: 'cse', forward: this.opts.forwardDir, backward: this.opts.backwardDir, charsPerChunk: this.charsPerChunk, batchSize: this.batchSize };
  }

  dispose(): void {
    this.cache.clear();
    this.forwardLm.dispose();
    this.backwardLm.dispose();
  }
}

/** One character LM: a flair `.pt` file, or one of our LM folders (config.json, model.safetensors, dictionary.json). */
export function loadCharLM(path: string): CharLanguageModel {
  if (existsSync(path) && statSync(path).isFile()) {
    if (!isFlairLanguageModelPath(path)) throw new UserError('expected a character LM folder or a flair LM file (.pt)', { file: path });
    return loadFlairLanguageModel(path);
  }
  return CharLanguageModel.load(path);
}

/**
 * The forward and backward LM of a CSE folder: `forward/` and `backward/` (what cse-lm:pretrain writes), or
 * else the folder's two flair `.pt` files (flair's published pair, e.g. pubmed-forward.pt + pubmed-backward.pt),
 * told apart by the `is_forward_lm` each file holds.
 */
export function cseLanguageModelPaths(dir: string): { forward: string; backward: string; models?: [CharLanguageModel, CharLanguageModel] } {
  if (existsSync(join(dir, 'forward')) || existsSync(join(dir, 'backward')) || !existsSync(dir) || !statSync(dir).isDirectory()) {
    return { forward: join(dir, 'forward'), backward: join(dir, 'backward') };
  }
  const pts = readdirSync(dir).filter(isFlairLanguageModelPath).sort();
  if (pts.length !== 2) {
    throw new UserError(`a CSE folder holds forward/ and backward/ LM folders, or two flair LM files (.pt); found ${pts.length} .pt file(s)`, { file: dir });
  }
  const models = pts.map((f) => loadFlairLanguageModel(join(dir, f)));
  const fw = models.findIndex((m) => m.config.isForwardLm);
  const bw = models.findIndex((m) => !m.config.isForwardLm);
  if (fw < 0 || bw < 0) {
    for (const m of models) m.dispose();
    throw new UserError(`the two flair LM files ${pts.join(' and ')} are both ${fw < 0 ? 'backward' : 'forward'} LMs; CSE needs one of each`, { file: dir });
  }
  return { forward: join(dir, pts[fw]), backward: join(dir, pts[bw]), models: [models[fw], models[bw]] };
}

/**
 * Spec: `{ type: 'cse', path }` with the LMs in `path/forward` and `path/backward` (what cse-lm:pretrain
 * writes under artifacts/cse-lm) or a folder holding flair's two `.pt` LM files, or `{ type: 'cse', forward,
 * backward }` naming each LM (folder or flair `.pt` file); neither given means artifacts/cse-lm.
 */
registerEmbedderType('cse', (spec) => {
  const str = (k: string) => (typeof spec[k] === 'string' ? (spec[k] as string) : undefined);
  const num = (k: string) => (typeof spec[k] === 'number' ? (spec[k] as number) : undefined);
  const opts = { charsPerChunk: num('charsPerChunk'), batchSize: num('batchSize'), cacheMB: num('cacheMB') };
  if (str('forward') || str('backward') || !str('path')) {
    const root = str('path') ?? artifactDir('cse-lm');
    return CharLMEmbedder.load(str('forward') ?? join(root, 'forward'), str('backward') ?? join(root, 'backward'), opts);
  }
  const found = cseLanguageModelPaths(str('path')!);
  if (found.models) return new CharLMEmbedder(found.models[0], found.models[1], { ...opts, forwardDir: found.forward, backwardDir: found.backward });
  return CharLMEmbedder.load(found.forward, found.backward, opts);
}, { defaultPath: () => artifactDir('cse-lm'), buildHint: 'nx run cse-lm:pretrain' });
