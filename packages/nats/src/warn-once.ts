import { diag } from '@opentelemetry/api';

const warned = new Set<string>();

/**
 * Logs a per-message problem through `diag` the first time it happens, so a stream of bad
 * messages cannot flood the log. `problem` comes from a fixed set of messages in this package.
 */
export function warnOnce(problem: string, error: unknown): void {
  if (warned.has(problem)) return;
  warned.add(problem);
  diag.warn(`tasklens: ${problem} (further occurrences are not logged)`, error);
}
