/**
 * A one-line progress bar on stderr: redrawn in place on a terminal, a line per quarter otherwise
 * (CI logs), silent when disabled. Shows done/total, rate and time left.
 */
export class ProgressBar {
  private readonly start = performance.now();
  private lastQuarter = -1;
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly enabled = true,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    /** What is counted, for the rate: `img/s` by default. */
    private readonly unit = 'img',
  ) {}

  update(done: number, total: number): void {
    if (!this.enabled || total <= 0) return;
    const elapsed = (performance.now() - this.start) / 1000;
    const rate = done / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (total - done) / rate : 0;
    const text = `${this.label} ${done}/${total} ${rate.toFixed(rate < 10 ? 1 : 0)} ${this.unit}/s, ${formatSeconds(eta)} left`;
    if (this.stream.isTTY) {
      const now = performance.now();
      if (done < total && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - text.length - 4));
      const filled = Math.round((width * done) / total);
      this.stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      if (done >= total) this.stream.write('\n');
    } else {
      const quarter = Math.floor((4 * done) / total);
      if (quarter > this.lastQuarter) {
        this.lastQuarter = quarter;
        this.stream.write(`${text}\n`);
      }
    }
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60).toString().padStart(2, '0')}s`;
}
