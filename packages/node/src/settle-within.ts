import { diag } from '@opentelemetry/api';

/**
 * Waits for `work` for at most `timeoutMs`. Resolves `true` when it settled in time (a rejection
 * goes to `diag`), `false` on timeout; never rejects. The timer is unref'd so it never keeps the
 * process alive by itself.
 */
export function settleWithin(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    timer.unref();
    work.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // The export failure report has already said why (an unreachable collector).
        diag.debug('tasklens: flushing telemetry failed', error);
        resolve(true);
      },
    );
  });
}
