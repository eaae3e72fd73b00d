import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { reportProblem } from './report.js';

/**
 * Counts failed exports (spans and metrics alike) and says so once, on the first failure, so
 * that an unreachable collector costs the user one line instead of silence or a flood; the
 * count follows at shutdown when there was more than one.
 */
export class ExportFailureReport {
  private failures = 0;
  private summarized = false;

  /** Wraps a result callback so that failures are counted and the first one reported. */
  observe(
    what: string,
    destination: string,
    callback: (result: ExportResult) => void,
  ): (result: ExportResult) => void {
    return (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.fail(what, destination, result.error);
      callback(result);
    };
  }

  private fail(what: string, destination: string, error: Error | undefined): void {
    this.failures++;
    if (this.failures > 1) return;
    reportProblem(
      `tasklens: could not export ${what} to ${destination}: ${error?.message ?? 'unknown error'} (further failures are counted, not repeated)`,
    );
  }

  /** One closing line, once, when more than the first export failed. */
  summarize(): void {
    if (this.summarized || this.failures <= 1) return;
    this.summarized = true;
    reportProblem(`tasklens: ${this.failures} telemetry exports failed in all`);
  }
}

/** A span exporter that reports its failures through `report`. */
export function reportingSpanExporter(
  exporter: SpanExporter,
  destination: string,
  report: ExportFailureReport,
): SpanExporter {
  return {
    export: (spans: ReadableSpan[], callback) =>
      exporter.export(spans, report.observe('spans', destination, callback)),
    shutdown: () => exporter.shutdown().finally(() => report.summarize()),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/** A push metric exporter that reports its failures through `report`. */
export function reportingMetricExporter(
  exporter: PushMetricExporter,
  destination: string,
  report: ExportFailureReport,
): PushMetricExporter {
  return {
    export: (metrics: ResourceMetrics, callback) =>
      exporter.export(metrics, report.observe('metrics', destination, callback)),
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown().finally(() => report.summarize()),
    selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
    selectAggregation: exporter.selectAggregation?.bind(exporter),
  };
}
