import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDefaultDiagLogger } from '../src/default-diag-logger.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function stderrLines(log: () => void): string[] {
  const written: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
  log();
  vi.restoreAllMocks();
  return written;
}

describe('the default diag logger (no OTEL_LOG_LEVEL)', () => {
  it("prints tasklens's own warnings and errors, one line each, without their details", () => {
    const logger = createDefaultDiagLogger();
    expect(
      stderrLines(() => {
        logger.warn('tasklens: dropped a carrier (oversized); the task runs as a new trace.', {
          detail: 'x',
        });
        logger.error('tasklens: could not record the end of a task attempt', new Error('boom'));
      }),
    ).toEqual([
      'tasklens: dropped a carrier (oversized); the task runs as a new trace.\n',
      'tasklens: could not record the end of a task attempt\n',
    ]);
  });

  it('reports spans the SDK dropped from a full queue', () => {
    const logger = createDefaultDiagLogger();
    expect(stderrLines(() => logger.warn('Dropped 42 spans because maxQueueSize reached'))).toEqual(
      ['tasklens: the span export queue was full; 42 spans were dropped\n'],
    );
  });

  it("leaves out the SDK's other messages (export errors are reported once elsewhere)", () => {
    const logger = createDefaultDiagLogger();
    expect(
      stderrLines(() => {
        logger.error('PeriodicExportingMetricReader: metrics export failed', new Error('x'));
        logger.warn('some SDK warning');
        logger.info('tasklens: info is not shown');
        logger.debug('debug');
      }),
    ).toEqual([]);
  });
});
