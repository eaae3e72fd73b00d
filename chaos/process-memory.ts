/* Resident memory of a process, sampled from /proc/PID/status (VmRSS) while a phase runs. */
import { readFile } from 'node:fs/promises';

/** Lowest and highest sample, in bytes. */
export interface MemoryRange {
  min: number;
  max: number;
}

/** VmRSS of `pid` in bytes, or undefined when the process is gone. */
export async function residentBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Samples the RSS of whichever process `currentPid` names every `intervalMs` into the window last
 * opened with {@link MemorySampler.window}; a window with no live process has no range.
 */
export class MemorySampler {
  private readonly ranges = new Map<string, MemoryRange>();
  private current: string | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly currentPid: () => number | undefined,
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
  range(name: string): MemoryRange | undefined {
    return this.ranges.get(name);
  }

  /** Stops sampling. */
  stop(): void {
    clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    const name = this.current;
    const pid = this.currentPid();
    if (name === undefined || pid === undefined) return;
    const bytes = await residentBytes(pid);
    if (bytes === undefined) return;
    const range = this.ranges.get(name);
    this.ranges.set(
      name,
      range === undefined
        ? { min: bytes, max: bytes }
        : { min: Math.min(range.min, bytes), max: Math.max(range.max, bytes) },
    );
  }
}
