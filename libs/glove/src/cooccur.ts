import { rmSync, mkdtempSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { RecordReader, RecordWriter } from './records.ts';
import { lineTokens, type Vocab } from './vocab.ts';
import type { TextSource } from './source.ts';

export interface CooccurOptions {
  window: number;
  cased: boolean;
  /** memory budget for the counts, in MB; when the sparse table fills, it is spilled sorted to disk */
  memoryMB: number;
  /** where spill files go (default: beside the output) */
  tmpDir?: string;
  onProgress?: (tokens: number) => void;
}

export interface CooccurStats {
  tokens: number;
  records: number;
  spills: number;
  denseEntries: number;
  maxProduct: number;
}

/**
 * Pairs of frequent words (rank product ≤ maxProduct, ranks 1-based) are counted in a dense block, row i of
 * length min(⌊maxProduct/(i+1)⌋, V): most of the mass lands there at array speed. The rest goes to an
 * open-addressing table of packed (i, j) keys that is sorted and spilled to disk when full (as cooccur.c
 * splits a dense table and an overflow buffer).
 */
class DenseBlock {
  readonly rowLen: Int32Array;
  readonly offset: Float64Array;
  readonly x: Float64Array;
  constructor(readonly vocabSize: number, readonly maxProduct: number) {
    this.rowLen = new Int32Array(vocabSize);
    this.offset = new Float64Array(vocabSize + 1);
    for (let i = 0; i < vocabSize; i++) {
      this.rowLen[i] = Math.min(Math.floor(maxProduct / (i + 1)), vocabSize);
      this.offset[i + 1] = this.offset[i] + this.rowLen[i];
    }
    this.x = new Float64Array(this.offset[vocabSize]);
  }
  static entries(vocabSize: number, maxProduct: number): number {
    let s = 0;
    for (let r = 1; r <= vocabSize; r++) {
      const l = Math.min(Math.floor(maxProduct / r), vocabSize);
      if (l === 0) break;
      s += l;
    }
    return s;
  }
  /** the largest maxProduct whose block holds at most `maxEntries` entries */
  static fit(vocabSize: number, maxEntries: number): number {
    let lo = 0, hi = vocabSize * vocabSize;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (DenseBlock.entries(vocabSize, mid) <= maxEntries) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Open addressing over (i+1, j) int pairs with float64 sums; slot key 0 = empty. */
class SparseTable {
  readonly ki: Int32Array;
  readonly kj: Int32Array;
  readonly val: Float64Array;
  readonly mask: number;
  readonly limit: number;
  size = 0;
  constructor(capacity: number) {
    this.ki = new Int32Array(capacity);
    this.kj = new Int32Array(capacity);
    this.val = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.limit = Math.floor(capacity * 0.7);
  }
  slot(i: number, j: number): number {
    let h = Math.imul(Math.imul(i + 1, 0x9e3779b1) ^ j, 0x85ebca6b);
    h ^= h >>> 15;
    h &= this.mask;
    const a = i + 1;
    for (;;) {
      const k = this.ki[h];
      if (k === 0 || (k === a && this.kj[h] === j)) return h;
      h = (h + 1) & this.mask;
    }
  }
  add(i: number, j: number, x: number): void {
    const h = this.slot(i, j);
    if (this.ki[h] === 0) {
      this.ki[h] = i + 1;
      this.kj[h] = j;
      this.val[h] = x;
      this.size++;
    } else this.val[h] += x;
  }
  /** the entries sorted by (i, j), as packed keys i*V+j and their sums */
  sorted(vocabSize: number): { keys: Float64Array; vals: Float64Array } {
    const keys = new Float64Array(this.size);
    let n = 0;
    for (let h = 0; h <= this.mask; h++) if (this.ki[h] !== 0) keys[n++] = (this.ki[h] - 1) * vocabSize + this.kj[h];
    keys.sort();
    const vals = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const i = Math.floor(keys[k] / vocabSize);
      vals[k] = this.val[this.slot(i, keys[k] - i * vocabSize)];
    }
    return { keys, vals };
  }
  clear(): void {
    this.ki.fill(0);
    this.size = 0;
  }
}

/** A sorted stream of (key = i*V+j, x) records for the k-way merge. */
interface SortedRun {
  key: number;
  x: number;
  advance(): void;
  close(): void;
}

function denseRun(d: DenseBlock): SortedRun {
  const V = d.vocabSize;
  let i = 0, j = -1;
  const run: SortedRun = {
    key: 0, x: 0,
    advance() {
      for (;;) {
        j++;
        while (i < V && j >= d.rowLen[i]) { i++; j = 0; }
        if (i >= V) { run.key = Infinity; return; }
        const x = d.x[d.offset[i] + j];
        if (x !== 0) { run.key = i * V + j; run.x = x; return; }
      }
    },
    close() {},
  };
  run.advance();
  return run;
}

function memoryRun(keys: Float64Array, vals: Float64Array): SortedRun {
  let p = -1;
  const run: SortedRun = {
    key: 0, x: 0,
    advance() {
      p++;
      if (p >= keys.length) { run.key = Infinity; return; }
      run.key = keys[p]; run.x = vals[p];
    },
    close() {},
  };
  run.advance();
  return run;
}

function fileRun(path: string, V: number): SortedRun {
  const r = new RecordReader(path);
  const run: SortedRun = {
    key: 0, x: 0,
    advance() {
      if (!r.next()) { run.key = Infinity; return; }
      run.key = r.i * V + r.j; run.x = r.x;
    },
    close() { r.close(); },
  };
  run.advance();
  return run;
}

/** Merges sorted runs into the writer, summing equal keys (a binary heap over the runs' current keys). */
function mergeRuns(runs: SortedRun[], V: number, out: RecordWriter): void {
  const heap = runs.filter((r) => r.key !== Infinity);
  const less = (a: SortedRun, b: SortedRun) => a.key < b.key;
  const down = (k: number) => {
    const n = heap.length;
    for (;;) {
      const l = 2 * k + 1, r = l + 1;
      let m = k;
      if (l < n && less(heap[l], heap[m])) m = l;
      if (r < n && less(heap[r], heap[m])) m = r;
      if (m === k) return;
      [heap[k], heap[m]] = [heap[m], heap[k]];
      k = m;
    }
  };
  for (let k = (heap.length >> 1) - 1; k >= 0; k--) down(k);
  let curKey = -1, curX = 0;
  while (heap.length > 0) {
    const top = heap[0];
    if (top.key === curKey) curX += top.x;
    else {
      if (curKey >= 0) { const i = Math.floor(curKey / V); out.push(i, curKey - i * V, curX); }
      curKey = top.key; curX = top.x;
    }
    top.advance();
    if (top.key === Infinity) {
      const last = heap.pop()!;
      if (heap.length > 0 && last !== top) heap[0] = last;
    }
    if (heap.length > 0) down(0);
  }
  if (curKey >= 0) { const i = Math.floor(curKey / V); out.push(i, curKey - i * V, curX); }
  for (const r of runs) r.close();
}

/**
 * cooccur: streams the corpus, and for each in-vocabulary token adds 1/d to (w_{k-d}, w_k) and (w_k, w_{k-d})
 * for d = 1..window (out-of-vocabulary tokens are dropped before windowing, as cooccur.c does; windows never
 * cross a line). Writes `out` sorted by (i, j), duplicates merged.
 */
export async function countCooccurrences(source: TextSource, vocab: Vocab, out: string, opts: CooccurOptions): Promise<CooccurStats> {
  const V = vocab.words.length;
  const ids = new Map<string, number>();
  for (let i = 0; i < V; i++) ids.set(vocab.words[i], i);
  const budget = Math.max(0, opts.memoryMB) * 1024 * 1024;
  const maxProduct = DenseBlock.fit(V, Math.floor((budget * 0.45) / 8));
  const dense = new DenseBlock(V, maxProduct);
  let cap = 64;
  while (cap * 2 * 16 <= budget * 0.45) cap *= 2;
  const sparse = new SparseTable(cap);
  const spillDir = mkdtempSync(join(opts.tmpDir ?? dirname(out), '.cooccur-spill-'));
  const spills: string[] = [];
  const inv = new Float64Array(opts.window + 1);
  for (let d = 1; d <= opts.window; d++) inv[d] = 1 / d;
  const rowLen = dense.rowLen, offset = dense.offset, dx = dense.x;
  const window = opts.window;
  let tokens = 0, sinceReport = 0;
  let line = new Int32Array(1024);

  const spill = () => {
    const { keys, vals } = sparse.sorted(V);
    const path = join(spillDir, `spill-${String(spills.length).padStart(5, '0')}.bin`);
    const w = new RecordWriter(path);
    for (let k = 0; k < keys.length; k++) { const i = Math.floor(keys[k] / V); w.push(i, keys[k] - i * V, vals[k]); }
    w.commit();
    spills.push(path);
    sparse.clear();
  };

  const writer = new RecordWriter(out);
  try {
    for await (const text of source.lines()) {
      const toks = lineTokens(text, opts.cased);
      tokens += toks.length;
      sinceReport += toks.length;
      if (toks.length > line.length) line = new Int32Array(toks.length * 2);
      let n = 0;
      for (const t of toks) { const id = ids.get(t); if (id !== undefined) line[n++] = id; }
      for (let k = 1; k < n; k++) {
        const w2 = line[k];
        const lo = k > window ? k - window : 0;
        for (let p = k - 1; p >= lo; p--) {
          const w1 = line[p];
          const x = inv[k - p];
          if (w2 < rowLen[w1]) {
            dx[offset[w1] + w2] += x;
            dx[offset[w2] + w1] += x;
          } else {
            sparse.add(w1, w2, x);
            sparse.add(w2, w1, x);
            if (sparse.size >= sparse.limit) spill();
          }
        }
      }
      if (sinceReport > 100_000 && opts.onProgress) { opts.onProgress(sinceReport); sinceReport = 0; }
    }
    if (opts.onProgress && sinceReport) opts.onProgress(sinceReport);
    const runs: SortedRun[] = [denseRun(dense)];
    const last = sparse.sorted(V);
    sparse.clear();
    runs.push(memoryRun(last.keys, last.vals));
    for (const s of spills) runs.push(fileRun(s, V));
    mergeRuns(runs, V, writer);
    writer.commit();
  } catch (e) {
    writer.abort();
    throw e;
  } finally {
    rmSync(spillDir, { recursive: true, force: true });
  }
  return { tokens, records: writer.count, spills: spills.length, denseEntries: dx.length, maxProduct };
}
