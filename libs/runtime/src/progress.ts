export interface ProgressOptions {
  /** a time budget in seconds (`--max-time`) from construction: the ETA never runs past it */
  maxSeconds?: number;
  /** counts are bytes: shown as MB, the rate as MB/s */
  bytes?: boolean;
}

/**
 * Progress on stderr: done/total, items per second and ETA; redrawn in place on a TTY, every 10 s otherwise.
 * The count never shows more than 100% (a total that turns out short grows to the count), the last line is
 * printed once, and with a `maxSeconds` budget the ETA is the budget's end when that comes first.
 */
export class Progress {
  private done = 0;
  private readonly t0 = performance.now();
  private lastDraw = 0;
  private lastLine: string | undefined;
  private ended = false;
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly startAt: number;
  /** performance.now() at which the time budget ends */
  private deadline: number | undefined;
  private readonly bytes: boolean;
  constructor(
    private readonly label: string,
    private total: number,
    private readonly unit = 'items',
    private readonly quiet = process.env.BIORE_QUIET === '1',
    start = 0,
    opts: ProgressOptions = {},
  ) {
    this.done = start;
    this.startAt = start;
    this.deadline = opts.maxSeconds && opts.maxSeconds > 0 ? this.t0 + opts.maxSeconds * 1000 : undefined;
    this.bytes = Boolean(opts.bytes);
  }

  setTotal(total: number): void {
    this.total = total;
  }

  /** A time budget (`--max-time`) of `seconds` from now (0 or undefined: none); the ETA never runs past it. */
  setTimeLimit(seconds: number | undefined): void {
    this.deadline = seconds !== undefined && seconds >= 0 && Number.isFinite(seconds) ? performance.now() + seconds * 1000 : undefined;
  }

  tick(n = 1, extra = ''): void {
    this.done += n;
    const now = performance.now();
    // the line at 100% is end()'s to print off a TTY, so it is printed once
    if (now - this.lastDraw > (this.tty ? 250 : 10_000) || (this.tty && this.done === this.total)) {
      this.lastDraw = now;
      this.draw(extra);
    }
  }

  rate(): number {
    const s = this.elapsed();
    return s > 0 ? (this.done - this.startAt) / s : 0;
  }

  private elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Seconds to go: by the current rate, capped by the time budget; undefined when unknown. */
  eta(): { seconds: number; budget: boolean } | undefined {
    const rate = this.rate();
    const total = Math.max(this.total, this.done);
    const byRate = rate > 0 && total > 0 ? (total - this.done) / rate : undefined;
    const left = this.deadline !== undefined ? Math.max(0, (this.deadline - performance.now()) / 1000) : undefined;
    if (left !== undefined && (byRate === undefined || left < byRate)) return { seconds: left, budget: true };
    return byRate === undefined ? undefined : { seconds: byRate, budget: false };
  }

  line(extra = ''): string {
    const total = this.total > 0 ? Math.max(this.total, this.done) : 0;
    const pct = total > 0 ? ` (${((100 * this.done) / total).toFixed(1)}%)` : '';
    const eta = this.eta();
    const etaText = eta ? ` ETA ${formatDuration(eta.seconds)}${eta.budget ? ' (max-time)' : ''}` : '';
    const count = this.bytes ? `${formatMB(this.done)}/${total ? formatMB(total) : '?'} MB` : `${this.done}/${total || '?'}`;
    const rate = this.bytes ? `${formatRate(this.rate() / 1e6)} MB/s` : `${formatRate(this.rate())} ${this.unit}/s`;
    return `${this.label} ${count}${pct} ${rate}${etaText}${extra ? ' ' + extra : ''}`;
  }

  private draw(extra: string): void {
    if (this.quiet || this.ended) return;
    const line = this.line(extra);
    if (this.tty) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(line + '\n');
    this.lastLine = line;
  }

  /** The closing line, once (later calls do nothing): on a TTY the redrawn line is finished in place. */
  end(extra = ''): void {
    if (this.quiet || this.ended) return;
    this.ended = true;
    const line = this.line(extra);
    if (this.tty) process.stderr.write(`\r\x1b[K${line}\n`);
    else process.stderr.write(line + '\n');
    this.lastLine = line;
  }

  /** The last line drawn (for tests). */
  get last(): string | undefined {
    return this.lastLine;
  }
}

function formatMB(bytes: number): string {
  const mb = bytes / 1e6;
  return mb >= 100 ? mb.toFixed(0) : mb >= 1 ? mb.toFixed(1) : mb.toFixed(2);
}

export function formatRate(r: number): string {
  return r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2);
}

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  s = Math.max(0, Math.round(s));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
