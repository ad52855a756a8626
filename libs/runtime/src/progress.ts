/** Progress on stderr: done/total, items per second and ETA; redrawn in place on a TTY, every 10 s otherwise. */
export class Progress {
  private done = 0;
  private readonly t0 = performance.now();
  private lastDraw = 0;
  private readonly tty = Boolean(process.stderr.isTTY);
  constructor(
    private readonly label: string,
    private total: number,
    private readonly unit = 'items',
    private readonly quiet = process.env.BIORE_QUIET === '1',
    start = 0,
  ) {
    this.done = start;
    this.startAt = start;
  }
  private readonly startAt: number;

  setTotal(total: number): void {
    this.total = total;
  }

  tick(n = 1, extra = ''): void {
    this.done += n;
    const now = performance.now();
    if (now - this.lastDraw > (this.tty ? 250 : 10_000) || this.done === this.total) {
      this.lastDraw = now;
      this.draw(extra);
    }
  }

  rate(): number {
    const s = (performance.now() - this.t0) / 1000;
    return s > 0 ? (this.done - this.startAt) / s : 0;
  }

  line(extra = ''): string {
    const rate = this.rate();
    const pct = this.total > 0 ? ` (${((100 * this.done) / this.total).toFixed(1)}%)` : '';
    const eta = rate > 0 && this.total > 0 ? ` ETA ${formatDuration((this.total - this.done) / rate)}` : '';
    return `${this.label} ${this.done}/${this.total || '?'}${pct} ${formatRate(rate)} ${this.unit}/s${eta}${extra ? ' ' + extra : ''}`;
  }

  private draw(extra: string): void {
    if (this.quiet) return;
    if (this.tty) process.stderr.write(`\r\x1b[K${this.line(extra)}`);
    else process.stderr.write(this.line(extra) + '\n');
  }

  end(extra = ''): void {
    if (this.quiet) return;
    if (this.tty) process.stderr.write(`\r\x1b[K${this.line(extra)}\n`);
    else process.stderr.write(this.line(extra) + '\n');
  }
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
