import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { createHash } from 'node:crypto';
import { createGunzip, gunzipSync } from 'node:zlib';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError, openAtomicWriter } from '@biore/runtime';
import { HostRateLimiter, abortableSleep, type Sleep } from './rate.ts';

/** A response that arrived but is not usable yet (truncated, malformed): the client retries it like a 5xx. */
export class RetryableError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'RetryableError';
  }
}

export interface HttpClientOptions {
  /** Sent as User-Agent on every request; NCBI and ChemRxiv ask for a name and a contact. */
  userAgent?: string;
  /** Requests per second per host (a number for every host, or per host name with a `*` default). */
  ratePerHost?: number | Record<string, number>;
  /** Attempts after the first one; default 6. */
  retries?: number;
  /** First backoff delay; doubled each attempt, times a jitter factor in [0.5, 1.5); default 1 s. */
  baseDelayMs?: number;
  /** Cap on one backoff delay and on an honoured Retry-After; default 120 s. */
  maxDelayMs?: number;
  /** Time allowed for the response headers, and for any silence in the body; default 60 s. */
  timeoutMs?: number;
  /** Injected in tests so retries do not really wait. */
  sleep?: Sleep;
  /** Injected in tests for deterministic jitter. */
  random?: () => number;
  now?: () => number;
  /** Called before each retry with what failed and how long the client waits. */
  onRetry?: (info: RetryInfo) => void;
  /** An undici dispatcher to use instead of the client's own Agent. */
  dispatcher?: Dispatcher;
}

export interface RetryInfo {
  url: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  method?: 'GET' | 'POST';
  /** Form body for POST (`application/x-www-form-urlencoded`). */
  form?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface FetchStats {
  requests: number;
  retries: number;
  bytes: number;
  /** Count of each failure reason that led to a retry, e.g. `http 429`, `ECONNRESET`, `gzip`. */
  retryReasons: Record<string, number>;
}

const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const RETRY_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_CLOSED',
  'Z_BUF_ERROR', 'Z_DATA_ERROR', 'ERR_STREAM_PREMATURE_CLOSE',
]);

class HttpStatusError extends Error {
  constructor(readonly status: number, readonly retryAfterMs: number | undefined, readonly url: string, readonly bodyHead: string) {
    super(`HTTP ${status}`);
  }
}

/** `Retry-After` as milliseconds: either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

function errorCode(e: unknown): string | undefined {
  let cur: any = e;
  for (let i = 0; i < 4 && cur; i++) {
    if (typeof cur.code === 'string') return cur.code;
    cur = cur.cause;
  }
  return undefined;
}

/** Redacts api_key / email from URLs shown in messages. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:api_key|email)=)[^&]*/g, '$1…');
}

/**
 * The one HTTP client of biore: a polite per-host rate limit, retries with exponential backoff and jitter on
 * 429/5xx/connection failures (honouring Retry-After), timeouts, gzip, and atomic downloads.
 */
export class HttpClient {
  readonly stats: FetchStats = { requests: 0, retries: 0, bytes: 0, retryReasons: {} };
  private readonly limiter: HostRateLimiter;
  private readonly dispatcher: Dispatcher;
  private readonly ownAgent: Agent | undefined;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(private readonly opts: HttpClientOptions = {}) {
    this.sleep = opts.sleep ?? abortableSleep;
    this.now = opts.now ?? Date.now;
    this.limiter = new HostRateLimiter(opts.ratePerHost ?? 3, this.sleep, this.now);
    this.retries = opts.retries ?? 6;
    this.baseDelayMs = opts.baseDelayMs ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 120_000;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.random = opts.random ?? Math.random;
    if (opts.dispatcher) this.dispatcher = opts.dispatcher;
    else {
      this.ownAgent = new Agent({ keepAliveTimeout: 4000, connect: { timeout: this.timeoutMs } });
      // PDF and file links often redirect (to a CDN or the https host)
      this.dispatcher = this.ownAgent.compose(interceptors.redirect({ maxRedirections: 5 }));
    }
  }

  /** Closes the client's connections (needed before a short-lived process or a test ends). */
  async close(): Promise<void> {
    await this.ownAgent?.close();
  }

  /** Backoff before attempt `attempt` (1-based): base·2^(attempt-1)·jitter, at least Retry-After, capped. */
  backoffMs(attempt: number, retryAfterMs?: number): number {
    const exp = this.baseDelayMs * 2 ** (attempt - 1) * (0.5 + this.random());
    const d = Math.max(exp, retryAfterMs ?? 0);
    return Math.min(d, this.maxDelayMs);
  }

  buildUrl(url: string, query?: Record<string, string | number | undefined>): string {
    if (!query) return url;
    const u = new URL(url);
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') u.searchParams.set(k, String(v));
    return u.toString();
  }

  /**
   * Runs `attempt` under the rate limit and retry policy. `attempt` gets the response and must consume its
   * body; it may throw RetryableError for a response that is unusable (malformed, truncated).
   */
  async withRetries<T>(url: string, opts: RequestOptions, consume: (res: Dispatcher.ResponseData) => Promise<T>): Promise<T> {
    const host = new URL(url).host;
    for (let attempt = 0; ; attempt++) {
      await this.limiter.acquire(host, opts.signal);
      this.stats.requests++;
      try {
        const headers: Record<string, string> = { 'accept-encoding': 'gzip', ...opts.headers };
        if (this.opts.userAgent) headers['user-agent'] = this.opts.userAgent;
        let body: string | undefined;
        if (opts.form) {
          const p = new URLSearchParams();
          for (const [k, v] of Object.entries(opts.form)) if (v !== undefined) p.set(k, String(v));
          body = p.toString();
          headers['content-type'] = 'application/x-www-form-urlencoded';
        }
        const res = await request(url, {
          method: opts.method ?? (body ? 'POST' : 'GET'),
          headers,
          body,
          dispatcher: this.dispatcher,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
          signal: opts.signal,
        });
        if (res.statusCode >= 300) {
          let head = '';
          try { head = (await res.body.text()).slice(0, 200); } catch { /* body lost with the connection */ }
          throw new HttpStatusError(res.statusCode, parseRetryAfter(res.headers['retry-after'] as string | undefined, this.now()), url, head);
        }
        return await consume(res);
      } catch (e) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? e;
        const { retry, reason, retryAfterMs } = this.classify(e);
        // a failure that is neither HTTP nor the network (a bug in a validator…) is not the user's to fix
        if (!retry && !(e instanceof HttpStatusError) && !(e instanceof UserError) && !errorCode(e)) throw e;
        if (!retry || attempt >= this.retries) throw this.toUserError(e, url, attempt + 1);
        const delayMs = this.backoffMs(attempt + 1, retryAfterMs);
        this.stats.retries++;
        this.stats.retryReasons[reason] = (this.stats.retryReasons[reason] ?? 0) + 1;
        this.opts.onRetry?.({ url: redactUrl(url), attempt: attempt + 1, delayMs, reason });
        await this.sleep(delayMs, opts.signal);
      }
    }
  }

  private classify(e: unknown): { retry: boolean; reason: string; retryAfterMs?: number } {
    if (e instanceof HttpStatusError) return { retry: RETRY_STATUS.has(e.status), reason: `http ${e.status}`, retryAfterMs: e.retryAfterMs };
    if (e instanceof RetryableError) return { retry: true, reason: 'bad response' };
    const code = errorCode(e);
    if (code && RETRY_CODES.has(code)) return { retry: true, reason: code.startsWith('Z_') ? 'gzip' : code };
    if (e instanceof Error && /terminated|other side closed|socket/i.test(e.message)) return { retry: true, reason: 'connection cut' };
    return { retry: false, reason: String(e) };
  }

  private toUserError(e: unknown, url: string, attempts: number): Error {
    if (e instanceof UserError) return e;
    const shown = redactUrl(url);
    if (e instanceof HttpStatusError) {
      return new UserError(`HTTP ${e.status} after ${attempts} attempt(s)${e.bodyHead ? `: ${e.bodyHead.replace(/\s+/g, ' ').trim()}` : ''}`, { file: shown });
    }
    const why = e instanceof Error ? `${errorCode(e) ?? e.name}: ${e.message}` : String(e);
    return new UserError(`request failed after ${attempts} attempt(s) (${why})`, { file: shown, cause: e });
  }

  /** GETs (or POSTs) `url` and returns the whole body, gunzipped when the server sent it gzip-encoded. */
  async getBuffer(url: string, opts: RequestOptions & { validate?: (body: Buffer) => void | Promise<void> } = {}): Promise<Buffer> {
    const full = this.buildUrl(url, opts.query);
    return this.withRetries(full, opts, async (res) => {
      const raw = Buffer.from(await res.body.arrayBuffer());
      this.stats.bytes += raw.length;
      const enc = String(res.headers['content-encoding'] ?? '');
      const body = enc.includes('gzip') ? gunzipSync(raw) : raw;
      await opts.validate?.(body);
      return body;
    });
  }

  async getText(url: string, opts: RequestOptions & { validate?: (body: string) => void | Promise<void> } = {}): Promise<string> {
    let text = '';
    await this.getBuffer(url, {
      ...opts,
      validate: async (b) => {
        text = b.toString('utf8');
        await opts.validate?.(text);
      },
    });
    return text;
  }

  /**
   * Streams `url` into `dest` through a temporary file renamed into place only when the body is complete,
   * its MD5 matches `md5` (when given) and, for `.gz` files, the gzip stream is whole. Returns size and hashes.
   */
  async download(
    url: string,
    dest: string,
    opts: RequestOptions & { md5?: string; checkGzip?: boolean } = {},
  ): Promise<{ bytes: number; md5: string; sha256: string }> {
    const full = this.buildUrl(url, opts.query);
    const checkGzip = opts.checkGzip ?? dest.endsWith('.gz');
    return this.withRetries(full, opts, async (res) => {
      const w = openAtomicWriter(dest);
      try {
        const md5 = createHash('md5');
        const sha = createHash('sha256');
        let bytes = 0;
        const enc = String(res.headers['content-encoding'] ?? '');
        // a file served gzip-encoded on the wire is stored decoded
        const src: Readable = enc.includes('gzip') ? res.body.pipe(createGunzip()) : res.body;
        const gz = checkGzip ? createGunzip() : undefined;
        const gzDone = gz ? pipeline(gz, new Writable({ write(_c, _e, cb) { cb(); } })) : undefined;
        gzDone?.catch(() => undefined); // observed below, after the body ends
        for await (const chunk of src) {
          const b = chunk as Buffer;
          bytes += b.length;
          this.stats.bytes += b.length;
          md5.update(b);
          sha.update(b);
          if (gz && !gz.destroyed) gz.write(b); // a checker only: gunzip outpaces the network, so no backpressure
          await w.write(b);
        }
        if (gz) {
          gz.end();
          try { await gzDone; } catch (e) { throw new RetryableError(`truncated or corrupt gzip (${(e as Error).message})`); }
        }
        const md5Hex = md5.digest('hex');
        if (opts.md5 && opts.md5.toLowerCase() !== md5Hex) throw new RetryableError(`MD5 mismatch: expected ${opts.md5}, got ${md5Hex}`);
        await w.commit();
        return { bytes, md5: md5Hex, sha256: sha.digest('hex') };
      } catch (e) {
        w.abort();
        throw e;
      }
    });
  }
}
