import { closeSync, openSync, readSync } from 'node:fs';
import { RECORD_BYTES } from './records.ts';

/**
 * The trained parameters: rows 0..V-1 are words (W), V..2V-1 contexts (W~), as in glove.c. Each row of
 * 2(D+1) floats holds the D weights, the bias, then AdaGrad's D+1 sums of squared gradients (starting at 1):
 * one record touches two contiguous rows instead of four scattered ones (≈15% faster than separate arrays).
 */
export interface GloveParams {
  vocabSize: number;
  dim: number;
  /** 2V × 2(D+1) */
  rows: Float32Array;
}

/** floats per parameter row */
export const rowStride = (dim: number) => 2 * (dim + 1);

export interface KernelOptions {
  xMax: number;
  alpha: number;
  eta: number;
}

const BLOCK = 1 << 15;

/**
 * One pass of AdaGrad over records [from, to) of a shuffled co-occurrence file: for each (i, j, X_ij), the
 * weighted least-squares error f(X)(w_i·w~_j + b_i + b~_j − log X)², f(X) = min(1, (X/x_max)^α), as glove.c.
 * Several threads run this over disjoint slices on the shared rows without locks (Hogwild).
 * Returns the summed cost (½ f·diff² per record) and how many records were skipped as non-finite.
 */
export function trainSlice(p: GloveParams, path: string, from: number, to: number, o: KernelOptions, onProgress?: (records: number) => void): { cost: number; skipped: number } {
  const V = p.vocabSize, D = p.dim, W = p.rows, S = 2 * (D + 1), G = D + 1;
  const D4 = D - (D % 4);
  const xMax = o.xMax, alpha = o.alpha, eta = o.eta;
  const buf = new ArrayBuffer(BLOCK * RECORD_BYTES);
  const bytes = new Uint8Array(buf), i32 = new Int32Array(buf), f64 = new Float64Array(buf);
  const fd = openSync(path, 'r');
  let cost = 0, skipped = 0;
  try {
    for (let off = from; off < to; ) {
      const want = Math.min(BLOCK, to - off) * RECORD_BYTES;
      let got = 0;
      while (got < want) {
        const r = readSync(fd, bytes, got, want - got, off * RECORD_BYTES + got);
        if (r === 0) break;
        got += r;
      }
      const n = Math.floor(got / RECORD_BYTES);
      if (n === 0) break;
      off += n;
      for (let r = 0; r < n; r++) {
        const l1 = (i32[4 * r] - 1) * S;
        const l2 = (i32[4 * r + 1] - 1 + V) * S;
        const m1 = l1 + G, m2 = l2 + G;
        const x = f64[2 * r + 1];
        // four partial sums: a shorter dependency chain than one running sum
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, b = 0;
        for (; b < D4; b += 4) {
          s0 += W[l1 + b] * W[l2 + b];
          s1 += W[l1 + b + 1] * W[l2 + b + 1];
          s2 += W[l1 + b + 2] * W[l2 + b + 2];
          s3 += W[l1 + b + 3] * W[l2 + b + 3];
        }
        for (; b < D; b++) s0 += W[l1 + b] * W[l2 + b];
        let diff = s0 + s1 + s2 + s3;
        diff += W[l1 + D] + W[l2 + D] - Math.log(x);
        let fdiff = x > xMax ? diff : Math.pow(x / xMax, alpha) * diff;
        if (!Number.isFinite(diff) || !Number.isFinite(fdiff)) { skipped++; continue; }
        cost += 0.5 * fdiff * diff;
        fdiff *= eta;
        // updates are applied as they are computed: fdiff, W and gradsq are finite here, so they are too
        // (glove.c stages them to drop a non-finite update; that pass costs a third of the time in JS)
        for (let b = 0; b < D; b++) {
          const w1 = W[l1 + b], w2 = W[l2 + b];
          const t1 = fdiff * w2, t2 = fdiff * w1;
          const g1 = W[m1 + b], g2 = W[m2 + b];
          W[l1 + b] = w1 - t1 / Math.sqrt(g1);
          W[l2 + b] = w2 - t2 / Math.sqrt(g2);
          W[m1 + b] = g1 + t1 * t1;
          W[m2 + b] = g2 + t2 * t2;
        }
        const b1 = fdiff / Math.sqrt(W[m1 + D]), b2 = fdiff / Math.sqrt(W[m2 + D]);
        if (Number.isFinite(b1)) W[l1 + D] -= b1;
        if (Number.isFinite(b2)) W[l2 + D] -= b2;
        fdiff *= fdiff;
        W[m1 + D] += fdiff;
        W[m2 + D] += fdiff;
      }
      onProgress?.(n);
    }
  } finally {
    closeSync(fd);
  }
  return { cost, skipped };
}
