/**
 * A progress bar on stderr with rate and ETA. On a terminal it redraws one line; in a log
 * (CI, a file) it prints a plain line at most every `logIntervalMs`, so logs stay readable.
 */
export class ProgressBar {
  private done = 0;
  private readonly started = performance.now();
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit = 'it',
    private readonly options: { stream?: NodeJS.WriteStream; logIntervalMs?: number; quiet?: boolean } = {},
  ) {
    this.tty = (options.stream ?? process.stderr).isTTY === true;
  }

  /** Advances by `n` items; `extra` is shown after the counts (e.g. "loss 1.23 acc 0.45"). */
  tick(n = 1, extra = ''): void {
    this.done += n;
    const now = performance.now();
    const interval = this.tty ? 100 : (this.options.logIntervalMs ?? 10_000);
    // The final line is finish()'s to draw.
    if (this.done >= this.total || now - this.lastDraw < interval) return;
    this.lastDraw = now;
    this.draw(extra);
  }

  /** Ends the bar with its final line. */
  finish(extra = ''): void {
    this.done = Math.min(this.done, this.total);
    this.draw(extra, true);
  }

  private draw(extra: string, final = false): void {
    if (this.options.quiet) return;
    const stream = this.options.stream ?? process.stderr;
    const elapsed = (performance.now() - this.started) / 1000;
    const rate = this.done / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (this.total - this.done) / rate : Infinity;
    const fraction = this.total > 0 ? this.done / this.total : 1;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const text = `${this.label} ${bar} ${this.done}/${this.total} ${rate.toFixed(1)} ${this.unit}/s ` +
      `${formatDuration(elapsed)} elapsed, ETA ${final ? '0s' : formatDuration(eta)}${extra ? `  ${extra}` : ''}`;
    if (this.tty) stream.write(`\r\x1b[2K${text}${final ? '\n' : ''}`);
    else stream.write(`${text}\n`);
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
