import { reportProblem } from './report.js';

/**
 * Counts failed exports (spans and metrics alike) and says so once, on the first failure, so
 * that an unreachable collector costs the user one line instead of silence or a flood; the
 * count follows at shutdown when there was more than one.
 */
export class ExportFailureReport {
  private failures = 0;
  private summarized = false;

  /**
   * Counts one failed export; the first one is reported, saying where the data waits when the
   * spool at `spoolPath` kept it.
   */
  failed(what: 'spans' | 'metrics', destination: string, error: Error, spoolPath?: string): void {
    this.failures++;
    if (this.failures > 1) return;
    const kept =
      spoolPath === undefined ? '' : `; kept in ${spoolPath} until the collector answers`;
    reportProblem(
      `tasklens: could not export ${what} to ${destination}: ${error.message}${kept} (further failures are counted, not repeated)`,
    );
  }

  /** One closing line, once, when more than the first export failed. */
  summarize(): void {
    if (this.summarized || this.failures <= 1) return;
    this.summarized = true;
    reportProblem(`tasklens: ${this.failures} telemetry exports failed in all`);
  }
}
