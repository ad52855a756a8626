import { Progress } from '@biore/runtime';

/**
 * The one memory budget of all frozen-encoder caches in a process (CSE and ELMo share it, rather than each
 * reserving its own): `BIORE_CACHE_MB` or 4096 MB. A cache may also have a smaller limit of its own.
 */
export const frozenCacheBudget = {
  limitFloats: (Number(process.env.BIORE_CACHE_MB ?? 4096) * 2 ** 20) / 4,
  usedFloats: 0,
  setMB(mb: number): void { this.limitFloats = (mb * 2 ** 20) / 4; },
};

/**
 * Host-side vectors of sentences under a frozen encoder (CSE's LMs, a fixed ELMo): a sentence seen again, as in
 * every epoch of RE training, skips the encoder. Bounded by a number of floats, its own and the process-wide
 * `frozenCacheBudget`; the oldest entries go first.
 * Exact only because the encoders' outputs do not depend on which other sentences share a batch.
 */
export class SentenceCache {
  private readonly map = new Map<string, Float32Array>();
  private floats = 0;

  constructor(private readonly limitFloats: number) {}

  /** room left for this cache: its own limit and what the shared budget has left */
  private room(): number {
    return Math.min(this.limitFloats - this.floats, frozenCacheBudget.limitFloats - frozenCacheBudget.usedFloats);
  }

  /** one key a sentence: its tokens joined by a character no token holds */
  private static key(s: readonly string[]): string {
    return s.join('\u0000');
  }

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
    const keys = sentences.map(SentenceCache.key);
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

  /**
   * Runs `compute` ahead of use over the sentences not cached yet (each distinct one once), shortest first in
   * chunks of `batchSize`, so that sentences of similar length share a batch and little goes to padding.
   * Stops filling when the cache is full (what was computed then stays usable). Returns how many sentences it stored.
   */
  fill(sentences: readonly (readonly string[])[], compute: (batch: (readonly string[])[]) => Float32Array[], batchSize: number, label = 'precompute'): number {
    const todo = new Map<string, readonly string[]>();
    for (const s of sentences) {
      const k = SentenceCache.key(s);
      if (!this.map.has(k) && !todo.has(k)) todo.set(k, s);
    }
    const order = [...todo.entries()].sort((a, b) => a[0].length - b[0].length);
    if (order.length === 0) return 0;
    const progress = new Progress(label, order.length, 'sentences');
    let done = 0;
    for (let i = 0; i < order.length; i += batchSize) {
      const chunk = order.slice(i, i + batchSize);
      const out = compute(chunk.map(([, s]) => s));
      for (let j = 0; j < chunk.length; j++) {
        if (!this.remember(chunk[j][0], out[j], false)) {
          process.stderr.write(`${label}: the cache is full after ${done + j} sentences; the rest are computed when used (raise cacheMB)\n`);
          return done + j;
        }
      }
      done += chunk.length;
      progress.tick(chunk.length);
    }
    return done;
  }

  /** Stores an entry; when `evict`, the oldest go to make room, else a full cache refuses it (returns false). */
  private remember(key: string, v: Float32Array, evict = true): boolean {
    if (v.length > Math.min(this.limitFloats, frozenCacheBudget.limitFloats)) return false;
    if (!evict && v.length > this.room()) return false;
    this.map.set(key, v);
    this.floats += v.length;
    frozenCacheBudget.usedFloats += v.length;
    for (const [k, old] of this.map) {
      if (this.room() >= 0 || k === key) break;
      this.map.delete(k);
      this.floats -= old.length;
      frozenCacheBudget.usedFloats -= old.length;
    }
    return true;
  }

  clear(): void {
    this.map.clear();
    frozenCacheBudget.usedFloats -= this.floats;
    this.floats = 0;
  }
}
