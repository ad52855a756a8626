import { createHash } from 'node:crypto';

/**
 * A set of 64-bit fingerprints in two typed arrays (open addressing, linear probing, load ≤ 1/2): 16 bytes
 * per member instead of ~80 for a JS Set of strings, so sentence de-duplication of a full PubMed build
 * (hundreds of millions of sentences) fits in a few GB. Two different keys collide with probability 2^-64.
 */
export class FingerprintSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private mask: number;
  size = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 1 << 4;
    while (cap < initialCapacity) cap <<= 1;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  /** The fingerprint of a string: the first 8 bytes of its SHA-1. */
  static of(key: string): [number, number] {
    const d = createHash('sha1').update(key).digest();
    const hi = d.readUInt32BE(0);
    const lo = d.readUInt32BE(4);
    return hi === 0 && lo === 0 ? [0, 1] : [hi, lo]; // (0,0) marks an empty slot
  }

  /** Adds `key`; returns false when it was already there. */
  add(key: string): boolean {
    const [hi, lo] = FingerprintSet.of(key);
    if (!this.insert(hi, lo)) return false;
    this.size++;
    if (this.size * 2 > this.mask + 1) this.grow();
    return true;
  }

  has(key: string): boolean {
    const [hi, lo] = FingerprintSet.of(key);
    for (let i = (lo ^ hi) & this.mask; ; i = (i + 1) & this.mask) {
      if (this.hi[i] === 0 && this.lo[i] === 0) return false;
      if (this.hi[i] === hi && this.lo[i] === lo) return true;
    }
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength;
  }

  private insert(hi: number, lo: number): boolean {
    for (let i = (lo ^ hi) & this.mask; ; i = (i + 1) & this.mask) {
      if (this.hi[i] === 0 && this.lo[i] === 0) {
        this.hi[i] = hi;
        this.lo[i] = lo;
        return true;
      }
      if (this.hi[i] === hi && this.lo[i] === lo) return false;
    }
  }

  private grow(): void {
    const { hi, lo } = this;
    const cap = (this.mask + 1) * 2;
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
    this.mask = cap - 1;
    for (let i = 0; i < hi.length; i++) if (hi[i] !== 0 || lo[i] !== 0) this.insert(hi[i], lo[i]);
  }
}
