/**
 * Host-side vectors of sentences under a frozen encoder (CSE's LMs, a fixed ELMo): a sentence seen again, as in
 * every epoch of RE training, skips the encoder. Bounded by a number of floats; the oldest entries go first.
 * Exact only because the encoders' outputs do not depend on which other sentences share a batch.
 */
export class SentenceCache {
  private readonly map = new Map<string, Float32Array>();
  private floats = 0;

  constructor(private readonly limitFloats: number) {}

  static fromMB(mb: number): SentenceCache {
    return new SentenceCache((mb * 2 ** 20) / 4);
  }

  get enabled(): boolean {
    return this.limitFloats > 0;
  }

  get size(): number {
    return this.map.size;
  }

  /**
   * Each sentence's vectors: cached ones as they are, the missing ones (each distinct sentence once) from one
   * call of `compute`, which gets them in order and returns one array per sentence.
   */
  lookup(sentences: readonly (readonly string[])[], compute: (missing: (readonly string[])[]) => Float32Array[]): Float32Array[] {
    const keys = sentences.map((s) => s.join('\u0000'));
    const fresh = new Map<string, Float32Array>();
    const todo: number[] = [];
    const seen = new Set<string>();
    keys.forEach((k, i) => {
      if (!this.map.has(k) && !seen.has(k)) { seen.add(k); todo.push(i); }
    });
    if (todo.length) {
      const out = compute(todo.map((i) => sentences[i]));
      todo.forEach((i, j) => fresh.set(keys[i], out[j]));
    }
    const result = keys.map((k) => this.map.get(k) ?? fresh.get(k)!);
    for (const [k, v] of fresh) this.remember(k, v);
    return result;
  }

  private remember(key: string, v: Float32Array): void {
    if (v.length > this.limitFloats) return;
    this.map.set(key, v);
    this.floats += v.length;
    for (const [k, old] of this.map) {
      if (this.floats <= this.limitFloats) break;
      this.map.delete(k);
      this.floats -= old.length;
    }
  }

  clear(): void {
    this.map.clear();
    this.floats = 0;
  }
}
