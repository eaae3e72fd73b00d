import type { LimitedWarning } from './limited-warning.js';

/**
 * A map of what a process remembers about messages or jobs, holding at most `max` entries: past
 * it the oldest written is forgotten and `forgotten` reports it (nothing is dropped silently).
 * Writing a key again makes it the newest.
 */
export class BoundedMap<V> {
  private readonly entries = new Map<string, V>();

  constructor(
    private readonly max: number,
    private readonly forgotten: LimitedWarning,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Removes the key; returns whether it was there. */
  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.max) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
      this.forgotten.report();
    }
    this.entries.set(key, value);
  }
}
