/* The lowest and highest value of a quantity (a worker's RSS, the spool's size) while a phase runs. */

/** Lowest and highest sample. */
export interface SampledRange {
  min: number;
  max: number;
}

/**
 * Samples `probe` every `intervalMs` into the window last opened with {@link RangeSampler.window};
 * a window where the probe never answered has no range.
 */
export class RangeSampler {
  private readonly ranges = new Map<string, SampledRange>();
  private current: string | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly probe: () => Promise<number | undefined>,
    intervalMs = 1_000,
  ) {
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }

  /** Starts a window: later samples count towards `name`, after one taken now. */
  async window(name: string): Promise<void> {
    this.current = name;
    await this.sample();
  }

  /** The range sampled in window `name`. */
  range(name: string): SampledRange | undefined {
    return this.ranges.get(name);
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    const name = this.current;
    if (name === undefined) return;
    const value = await this.probe();
    if (value === undefined) return;
    const range = this.ranges.get(name);
    this.ranges.set(
      name,
      range === undefined
        ? { min: value, max: value }
        : { min: Math.min(range.min, value), max: Math.max(range.max, value) },
    );
  }
}
