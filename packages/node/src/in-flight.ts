/** The promises an exporter has under way, so that flush and shutdown can wait for them. */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  /** Tracks `work` until it settles; returns it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const forget = (): void => {
      this.pending.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  /** Resolves once everything tracked so far has settled; never rejects. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
