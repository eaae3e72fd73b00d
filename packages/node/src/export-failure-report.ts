import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { reportProblem } from './report.js';

/**
 * Counts failed exports of one signal and says so once, on the first failure, so that an
 * unreachable collector costs the user one line instead of silence or a flood.
 */
export class ExportFailureReport {
  private failures = 0;

  constructor(
    private readonly what: string,
    private readonly destination: string,
  ) {}

  /** Wraps a result callback so that failures are counted and the first one reported. */
  observe(callback: (result: ExportResult) => void): (result: ExportResult) => void {
    return (result) => {
      if (result.code !== ExportResultCode.SUCCESS) this.fail(result.error);
      callback(result);
    };
  }

  private fail(error: Error | undefined): void {
    this.failures++;
    if (this.failures > 1) return;
    reportProblem(
      `tasklens: could not export ${this.what} to ${this.destination}: ${error?.message ?? 'unknown error'} (further failures are counted, not repeated)`,
    );
  }

  /** One closing line when more than the first failure happened. */
  summarize(): void {
    if (this.failures > 1) {
      reportProblem(
        `tasklens: ${this.failures} exports of ${this.what} to ${this.destination} failed`,
      );
    }
  }
}

/** A span exporter that reports its failures through `report`. */
export function reportingSpanExporter(
  exporter: SpanExporter,
  report: ExportFailureReport,
): SpanExporter {
  return {
    export: (spans: ReadableSpan[], callback) => exporter.export(spans, report.observe(callback)),
    shutdown: () => exporter.shutdown().finally(() => report.summarize()),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

/** A push metric exporter that reports its failures through `report`. */
export function reportingMetricExporter(
  exporter: PushMetricExporter,
  report: ExportFailureReport,
): PushMetricExporter {
  return {
    export: (metrics: ResourceMetrics, callback) =>
      exporter.export(metrics, report.observe(callback)),
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown().finally(() => report.summarize()),
    selectAggregationTemporality: exporter.selectAggregationTemporality?.bind(exporter),
    selectAggregation: exporter.selectAggregation?.bind(exporter),
  };
}
