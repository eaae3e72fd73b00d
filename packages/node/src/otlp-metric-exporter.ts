import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { JsonMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type {
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { ExportFailureReport } from './export-failure-report.js';
import { readerTemporality } from './gauge-temporality.js';
import { InFlight } from './in-flight.js';
import { withExemplars } from './otlp-exemplars.js';
import { OTLP_JSON } from './otlp-http-post.js';
import type { OtlpHttpPoster, OtlpTarget } from './otlp-http-post.js';
import { SeriesStartPoints } from './series-start-points.js';
import type { Spool } from './spool.js';

function dataPoints(metrics: ResourceMetrics): number {
  let count = 0;
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) count += metric.dataPoints.length;
  }
  return count;
}

/**
 * Exports metrics as OTLP/HTTP JSON with cumulative temporality (Prometheus stores cumulative
 * series; observable gauges excepted, see gauge-temporality.ts), serialized by the SDK's own OTLP serializer, with the exemplars of tasklens's task
 * histograms added (see otlp-exemplars.ts), and a zero point at the start of each new counter
 * and histogram series (see series-start-points.ts). A failed export is not
 * spooled while the process runs, since the next one carries the same running totals; the last
 * one that failed is spooled at shutdown, so the counters and last-success point of a short job
 * whose collector was down arrive later.
 */
export class OtlpMetricExporter implements PushMetricExporter {
  private readonly inFlight = new InFlight();
  private unsent: { body: Uint8Array; items: number } | undefined;
  private readonly seriesStarts = new SeriesStartPoints();

  constructor(
    private readonly target: OtlpTarget,
    private readonly poster: OtlpHttpPoster,
    private readonly spool: Spool | undefined,
    private readonly failures: ExportFailureReport,
  ) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    this.inFlight.track(this.send(metrics)).then(resultCallback, (error: unknown) =>
      resultCallback({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      }),
    );
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return readerTemporality(instrumentType);
  }

  forceFlush(): Promise<void> {
    return this.inFlight.settled();
  }

  async shutdown(): Promise<void> {
    await this.inFlight.settled();
    if (this.unsent !== undefined && this.spool !== undefined) {
      await this.spool.keep({ kind: 'metrics', ...this.unsent });
      this.unsent = undefined;
    }
  }

  private async send(collected: ResourceMetrics): Promise<ExportResult> {
    const { metrics, newSeries } = this.seriesStarts.add(collected);
    const serialized = JsonMetricsSerializer.serializeRequest(metrics);
    if (serialized === undefined) {
      return { code: ExportResultCode.FAILED, error: new Error('metrics could not be serialized') };
    }
    const body = withExemplars(serialized, metrics);
    const result = await this.poster.post(this.target, body, OTLP_JSON);
    if (result.status === 'success') {
      this.seriesStarts.delivered(newSeries);
      this.unsent = undefined;
      this.spool?.collectorAnswered();
      return { code: ExportResultCode.SUCCESS };
    }
    const retryable = result.status === 'retryable';
    this.unsent = retryable ? { body, items: dataPoints(metrics) } : undefined;
    // The next export carries the same running totals; the last one is spooled at exit.
    this.failures.failed(
      'metrics',
      this.target.url,
      result.error,
      retryable ? this.spool?.location : undefined,
    );
    return { code: ExportResultCode.FAILED, error: result.error };
  }
}
