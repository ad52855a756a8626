/**
 * flair's layout of a character stream for truncated BPTT: the stream is cut into `batch` contiguous
 * pieces of `rows` characters (the remainder dropped), stored time-major, so column b of row t is
 * character b·rows + t. A window of `seqLen` rows predicts each character's successor; the hidden
 * state carries over from one window to the next.
 */
export interface BatchedStream {
  /** time-major ids: data[t * batch + b] */
  data: Int32Array;
  rows: number;
  batch: number;
}

export function batchify(ids: Int32Array, batch: number): BatchedStream {
  const rows = Math.floor(ids.length / batch);
  const data = new Int32Array(rows * batch);
  for (let b = 0; b < batch; b++) {
    const off = b * rows;
    for (let t = 0; t < rows; t++) data[t * batch + b] = ids[off + t];
  }
  return { data, rows, batch };
}

/** How many windows one pass over the stream takes. */
export function windowCount(s: BatchedStream, seqLen: number): number {
  return s.rows < 2 ? 0 : Math.ceil((s.rows - 1) / seqLen);
}

export interface Window {
  /** batch-major [batch, len] inputs and their next-character targets */
  input: Int32Array;
  target: Int32Array;
  len: number;
}

/** Window `w`: rows w·seqLen … and their successors (the last window may be shorter), batch-major. */
export function getWindow(s: BatchedStream, w: number, seqLen: number): Window {
  const start = w * seqLen;
  const len = Math.min(seqLen, s.rows - 1 - start);
  if (len <= 0) throw new Error(`window ${w} lies past the end of a stream of ${s.rows} rows`);
  const B = s.batch;
  const input = new Int32Array(B * len);
  const target = new Int32Array(B * len);
  for (let t = 0; t < len; t++) {
    const row = (start + t) * B;
    for (let b = 0; b < B; b++) {
      input[b * len + t] = s.data[row + b];
      target[b * len + t] = s.data[row + B + b];
    }
  }
  return { input, target, len };
}
