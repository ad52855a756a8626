import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync, mkdirSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '@biore/runtime';

/**
 * A co-occurrence record as Stanford's CREC with `real = double`: word1 int32, word2 int32 (both 1-based
 * ranks in vocab.txt), x float64; 16 bytes, machine (little-endian) byte order. Files of these records
 * (cooccur.bin, cooccur.shuf.bin) are readable by Stanford's shuffle and glove tools and back.
 */
export const RECORD_BYTES = 16;
const BLOCK_RECORDS = 1 << 16;

/** Buffered writer of records to a temporary name; `commit()` renames it into place. */
export class RecordWriter {
  private readonly buf = new ArrayBuffer(BLOCK_RECORDS * RECORD_BYTES);
  private readonly i32 = new Int32Array(this.buf);
  private readonly f64 = new Float64Array(this.buf);
  private n = 0;
  private fd: number;
  private readonly tmp: string;
  count = 0;
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    this.fd = openSync(this.tmp, 'w');
  }
  /** i, j are 0-based ids; written 1-based */
  push(i: number, j: number, x: number): void {
    const n = this.n;
    this.i32[4 * n] = i + 1;
    this.i32[4 * n + 1] = j + 1;
    this.f64[2 * n + 1] = x;
    this.count++;
    if (++this.n === BLOCK_RECORDS) this.flush();
  }
  /** writes raw bytes holding whole records */
  pushRaw(bytes: Uint8Array): void {
    this.flush();
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    this.count += bytes.length / RECORD_BYTES;
  }
  private flush(): void {
    if (this.n === 0) return;
    const bytes = new Uint8Array(this.buf, 0, this.n * RECORD_BYTES);
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    this.n = 0;
  }
  commit(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
  abort(): void {
    try { closeSync(this.fd); } catch { /* already closed */ }
    rmSync(this.tmp, { force: true });
  }
}

/** Sequential buffered reader: `next()` loads the next record into i, j (0-based), x; false at the end. */
export class RecordReader {
  private readonly buf: ArrayBuffer;
  private readonly bytes: Uint8Array;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private n = 0;
  private pos = 0;
  private fileOff: number;
  private readonly end: number;
  private readonly fd: number;
  i = 0;
  j = 0;
  x = 0;
  /** records [from, to) of the file; default the whole file */
  constructor(readonly path: string, from = 0, to = -1, blockRecords = BLOCK_RECORDS) {
    this.fd = openSync(path, 'r');
    const size = fstatSync(this.fd).size;
    if (size % RECORD_BYTES !== 0) {
      closeSync(this.fd);
      throw new UserError(`size ${size} is not a multiple of the ${RECORD_BYTES}-byte co-occurrence record`, { file: path });
    }
    const total = size / RECORD_BYTES;
    this.fileOff = from * RECORD_BYTES;
    this.end = (to < 0 ? total : Math.min(to, total)) * RECORD_BYTES;
    this.buf = new ArrayBuffer(blockRecords * RECORD_BYTES);
    this.bytes = new Uint8Array(this.buf);
    this.i32 = new Int32Array(this.buf);
    this.f64 = new Float64Array(this.buf);
  }
  static count(path: string): number {
    const fd = openSync(path, 'r');
    try { return fstatSync(fd).size / RECORD_BYTES; } finally { closeSync(fd); }
  }
  next(): boolean {
    if (this.pos === this.n) {
      const want = Math.min(this.bytes.length, this.end - this.fileOff);
      if (want <= 0) return false;
      let got = 0;
      while (got < want) {
        const r = readSync(this.fd, this.bytes, got, want - got, this.fileOff + got);
        if (r === 0) break;
        got += r;
      }
      this.fileOff += got;
      this.n = Math.floor(got / RECORD_BYTES);
      this.pos = 0;
      if (this.n === 0) return false;
    }
    const p = this.pos++;
    this.i = this.i32[4 * p] - 1;
    this.j = this.i32[4 * p + 1] - 1;
    this.x = this.f64[2 * p + 1];
    return true;
  }
  close(): void {
    closeSync(this.fd);
  }
}
