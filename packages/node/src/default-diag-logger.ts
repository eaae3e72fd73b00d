import type { DiagLogger } from '@opentelemetry/api';
import { reportProblem } from './report.js';

const DROPPED_SPANS = /Dropped (\d+) spans/;
const ignore = (): void => undefined;

/**
 * The diag logger used when `OTEL_LOG_LEVEL` is not set: one stderr line for each warning of
 * tasklens itself (dropped carriers, undelivered messages) and for spans the SDK dropped from a
 * full export queue, so what is lost is never silent. The SDK's export errors are left out: the
 * export failure report already says once that the collector is unreachable. Set
 * `OTEL_LOG_LEVEL` for everything the SDK logs.
 */
export function createDefaultDiagLogger(): DiagLogger {
  const report = (message: string): void => {
    if (message.startsWith('tasklens:')) {
      reportProblem(message);
      return;
    }
    const dropped = DROPPED_SPANS.exec(message);
    if (dropped !== null) {
      reportProblem(`tasklens: the span export queue was full; ${dropped[1]} spans were dropped`);
    }
  };
  return { error: report, warn: report, info: ignore, debug: ignore, verbose: ignore };
}
