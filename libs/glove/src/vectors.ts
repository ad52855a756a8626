import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError, readJson, writeFileAtomic, writeJsonAtomic } from '@biore/runtime';

/**
 * The fast lookup artifact: `vectors.bin` (V × D float32, row-major, little-endian; row k is the k-th line of
 * `words.txt`), `words.txt` (one word a line) and `config.json` (written last: its presence marks a complete
 * artifact). Built vectors also carry Stanford's `vectors.txt`.
 */
export interface GloveVectorsConfig {
  format: 'biore-glove-vectors';
  version: 1;
  dim: number;
  vocabSize: number;
  /** the normalisation the vectors' vocabulary was built with; an embedder applies the same to its tokens */
  lowercase: boolean;
  /** 'W+W~' for vectors built here (glove.c's model 2), 'imported' for a published .txt */
  vectors: 'W+W~' | 'imported';
  [key: string]: unknown;
}

export interface GloveVectors {
  words: string[];
  /** V × D */
  matrix: Float32Array;
  dim: number;
}

export function writeGloveArtifact(dir: string, v: GloveVectors, config: Omit<GloveVectorsConfig, 'format' | 'version' | 'dim' | 'vocabSize'>): GloveVectorsConfig {
  if (v.matrix.length !== v.words.length * v.dim) throw new Error(`matrix holds ${v.matrix.length} values, expected ${v.words.length}×${v.dim}`);
  writeFileAtomic(join(dir, 'vectors.bin'), new Uint8Array(v.matrix.buffer, v.matrix.byteOffset, v.matrix.byteLength));
  writeFileAtomic(join(dir, 'words.txt'), v.words.join('\n') + '\n');
  const full: GloveVectorsConfig = { format: 'biore-glove-vectors', version: 1, dim: v.dim, vocabSize: v.words.length, ...config } as GloveVectorsConfig;
  writeJsonAtomic(join(dir, 'config.json'), full);
  return full;
}

/** Reads the lookup artifact in three reads; a missing or inconsistent file is a UserError naming it. */
export function readGloveArtifact(dir: string): GloveVectors & { config: GloveVectorsConfig } {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new UserError('not a GloVe vectors folder (config.json missing; build one with `nx run glove:build` or `nx run glove:import`)', { file: dir });
  const config = readJson<GloveVectorsConfig>(configPath, 'GloVe config');
  if (config.format !== 'biore-glove-vectors') throw new UserError(`expected format 'biore-glove-vectors', got '${config.format}'`, { file: configPath });
  const wordsPath = join(dir, 'words.txt');
  const binPath = join(dir, 'vectors.bin');
  if (!existsSync(wordsPath)) throw new UserError('words.txt missing', { file: wordsPath });
  if (!existsSync(binPath)) throw new UserError('vectors.bin missing', { file: binPath });
  const words = readFileSync(wordsPath, 'utf8').split('\n');
  if (words[words.length - 1] === '') words.pop();
  if (words.length !== config.vocabSize) throw new UserError(`holds ${words.length} words, config.json says ${config.vocabSize}`, { file: wordsPath });
  const raw = readFileSync(binPath);
  if (raw.length !== config.vocabSize * config.dim * 4) throw new UserError(`size ${raw.length} bytes, expected ${config.vocabSize}×${config.dim} float32`, { file: binPath });
  const matrix = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  return { words, matrix, dim: config.dim, config };
}

/** Stanford's text format: `word v1 … vd` a line, no header, six decimals (as glove.c's %lf). */
export function writeGloveText(path: string, v: GloveVectors): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'w');
  try {
    const D = v.dim;
    let chunk: string[] = [];
    const flush = () => { writeSync(fd, chunk.join('')); chunk = []; };
    for (let i = 0; i < v.words.length; i++) {
      let line = v.words[i];
      for (let b = 0; b < D; b++) line += ' ' + v.matrix[i * D + b].toFixed(6);
      chunk.push(line + '\n');
      if (chunk.length === 2000) flush();
    }
    flush();
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try { closeSync(fd); } catch { /* closed */ }
    rmSync(tmp, { force: true });
    throw e;
  }
}

const isInt = (s: string) => /^\d+$/.test(s);

/**
 * Reads any published GloVe `.txt` (`word v1 … vd` a line, e.g. glove.6B.100d.txt; a word2vec-style first line
 * `N D` is tolerated). Errors name the file and line: a non-numeric value, a line whose dimension differs from
 * the first line's, a truncated last line. A word seen twice keeps its first vector.
 */
export async function loadGloveText(path: string, opts: { onProgress?: (bytes: number, totalBytes: number) => void } = {}): Promise<GloveVectors & { duplicates: number }> {
  if (!existsSync(path)) throw new UserError('GloVe text file not found', { file: path });
  const total = statSync(path).size;
  const words: string[] = [];
  const seen = new Set<string>();
  let matrix = new Float32Array(1 << 16);
  let dim = -1;
  let header: { n: number; d: number } | undefined;
  let pendingHeader: string[] | undefined;
  let lineNo = 0;
  let duplicates = 0;
  let rest = '';
  let endsWithNewline = true;

  const fail = (msg: string, line: number): never => { throw new UserError(msg, { file: path, record: `line ${line}` }); };
  const addLine = (line: string, no: number, isLast: boolean) => {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const f = line.split(' ');
    while (f.length > 1 && f[f.length - 1] === '') f.pop();
    if (f.length === 1 && f[0] === '') return;
    if (no === 1 && f.length === 2 && isInt(f[0]) && isInt(f[1])) { pendingHeader = f; return; }
    if (dim < 0) {
      if (pendingHeader) {
        const d = Number(pendingHeader[1]);
        if (f.length - 1 === d) header = { n: Number(pendingHeader[0]), d };
        else addLine(pendingHeader.join(' '), 1, false);
        pendingHeader = undefined;
        if (dim >= 0) return addLine(line, no, isLast);
      }
      if (f.length < 2) fail(`expected 'word v1 … vd', got '${line.slice(0, 60)}'`, no);
      dim = f.length - 1;
    }
    if (f.length - 1 !== dim) {
      if (isLast && !endsWithNewline && f.length - 1 < dim) fail(`truncated file: the last line has ${f.length - 1} values, expected ${dim}`, no);
      fail(`dimension mismatch: ${f.length - 1} values, expected ${dim} (as on the first vector line)`, no);
    }
    const word = f[0];
    if (seen.has(word)) { duplicates++; return; }
    const k = words.length;
    if ((k + 1) * dim > matrix.length) { const m = new Float32Array(Math.max(matrix.length * 2, (k + 1) * dim)); m.set(matrix); matrix = m; }
    for (let b = 0; b < dim; b++) {
      const s = f[b + 1];
      const x = Number(s);
      if (s === '' || !Number.isFinite(x)) fail(`value ${b + 1} of '${word}' is not a number: '${s.slice(0, 30)}'`, no);
      matrix[k * dim + b] = x;
    }
    seen.add(word);
    words.push(word);
  };

  let read = 0;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 22 }) as AsyncIterable<string>) {
    read += Buffer.byteLength(chunk, 'utf8');
    const text = rest + chunk;
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const l of lines) addLine(l, ++lineNo, false);
    opts.onProgress?.(read, total);
  }
  if (rest !== '') { endsWithNewline = false; addLine(rest, ++lineNo, true); }
  if (pendingHeader) addLine(pendingHeader.join(' '), 1, false);
  if (dim < 0) throw new UserError('no vectors in file', { file: path });
  if (header && header.n !== words.length + duplicates) throw new UserError(`header says ${header.n} vectors, file holds ${words.length + duplicates}`, { file: path, record: 'line 1' });
  return { words, matrix: matrix.slice(0, words.length * dim), dim, duplicates };
}
