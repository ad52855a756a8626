export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** setTimeout as a promise that rejects when `signal` aborts. */
export const abortableSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * A polite per-host rate limit: request starts to one host are spaced at least 1/rate seconds apart
 * (NCBI: 3 requests/s, 10 with an API key). Slots are reserved in call order, so concurrent callers queue.
 */
export class HostRateLimiter {
  private readonly next = new Map<string, number>();
  constructor(
    private readonly rate: number | Record<string, number>,
    private readonly sleep: Sleep,
    private readonly now: () => number = Date.now,
  ) {}

  rateFor(host: string): number {
    if (typeof this.rate === 'number') return this.rate;
    return this.rate[host] ?? this.rate['*'] ?? 3;
  }

  /** Waits for the host's next slot; returns the wait in ms. */
  async acquire(host: string, signal?: AbortSignal): Promise<number> {
    const rate = this.rateFor(host);
    if (!(rate > 0) || !Number.isFinite(rate)) return 0;
    const interval = 1000 / rate;
    const now = this.now();
    const slot = Math.max(now, this.next.get(host) ?? 0);
    this.next.set(host, slot + interval);
    const wait = slot - now;
    if (wait > 0) await this.sleep(wait, signal);
    return wait;
  }
}
