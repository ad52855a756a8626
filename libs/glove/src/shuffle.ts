import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Rng } from '@biore/runtime';
import { RECORD_BYTES, RecordReader, RecordWriter } from './records.ts';

export interface ShuffleOptions {
  seed: number;
  memoryMB: number;
  tmpDir?: string;
  onProgress?: (records: number) => void;
}

/** Fisher–Yates over the first n 16-byte records of `a` (four int32 words each, moved bit for bit). */
function shuffleRecords(a: Int32Array, n: number, rng: Rng): void {
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const p = 4 * i, q = 4 * j;
    let t = a[p]; a[p] = a[q]; a[q] = t;
    t = a[p + 1]; a[p + 1] = a[q + 1]; a[q + 1] = t;
    t = a[p + 2]; a[p + 2] = a[q + 2]; a[q + 2] = t;
    t = a[p + 3]; a[p + 3] = a[q + 3]; a[q + 3] = t;
  }
}

function readRecords(fd: number, bytes: Uint8Array, maxRecords: number, fileOffRecords: number): number {
  const want = maxRecords * RECORD_BYTES;
  let got = 0;
  while (got < want) {
    const r = readSync(fd, bytes, got, want - got, fileOffRecords * RECORD_BYTES + got);
    if (r === 0) break;
    got += r;
  }
  return Math.floor(got / RECORD_BYTES);
}

/**
 * shuffle: as shuffle.c, in bounded memory. Chunks that fit the budget are shuffled and written to temporary
 * files; then equal slices of every chunk file are interleaved and shuffled again into the output. A file
 * that fits in one chunk is shuffled in one pass. The order depends only on `seed` and the budget.
 */
export function shuffleCooccurrences(input: string, output: string, opts: ShuffleOptions): { records: number; chunks: number } {
  const total = RecordReader.count(input);
  const chunkRecords = Math.max(1024, Math.floor((Math.max(0, opts.memoryMB) * 1024 * 1024) / RECORD_BYTES));
  const rng = new Rng(opts.seed);
  const buf = new ArrayBuffer(Math.min(chunkRecords, Math.max(1, total)) * RECORD_BYTES);
  const bytes = new Uint8Array(buf);
  const words = new Int32Array(buf);
  const fd = openSync(input, 'r');
  const tmpDir = mkdtempSync(join(opts.tmpDir ?? dirname(output), '.shuffle-'));
  const out = new RecordWriter(output);
  try {
    if (total <= chunkRecords) {
      const n = readRecords(fd, bytes, total, 0);
      shuffleRecords(words, n, rng);
      out.pushRaw(bytes.subarray(0, n * RECORD_BYTES));
      opts.onProgress?.(n);
      out.commit();
      return { records: n, chunks: 1 };
    }
    const chunkFiles: string[] = [];
    for (let off = 0; off < total; off += chunkRecords) {
      const n = readRecords(fd, bytes, Math.min(chunkRecords, total - off), off);
      shuffleRecords(words, n, rng);
      const path = join(tmpDir, `chunk-${String(chunkFiles.length).padStart(5, '0')}.bin`);
      const w = new RecordWriter(path);
      w.pushRaw(bytes.subarray(0, n * RECORD_BYTES));
      w.commit();
      chunkFiles.push(path);
      opts.onProgress?.(Math.floor(n / 2));
    }
    const slice = Math.max(1, Math.floor(chunkRecords / chunkFiles.length));
    const fds = chunkFiles.map((p) => openSync(p, 'r'));
    const pos = chunkFiles.map(() => 0);
    const sizes = chunkFiles.map((p) => RecordReader.count(p));
    try {
      let written = 0;
      while (written < total) {
        let n = 0;
        for (let f = 0; f < fds.length; f++) {
          const k = Math.min(slice, sizes[f] - pos[f], chunkRecords - n);
          if (k <= 0) continue;
          const got = readRecords(fds[f], bytes.subarray(n * RECORD_BYTES), k, pos[f]);
          pos[f] += got;
          n += got;
        }
        shuffleRecords(words, n, rng);
        out.pushRaw(bytes.subarray(0, n * RECORD_BYTES));
        written += n;
        opts.onProgress?.(Math.ceil(n / 2));
      }
    } finally {
      for (const f of fds) closeSync(f);
    }
    out.commit();
    return { records: total, chunks: chunkFiles.length };
  } catch (e) {
    out.abort();
    throw e;
  } finally {
    closeSync(fd);
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
