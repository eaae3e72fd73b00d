import { ExportFailureReport } from './export-failure-report.js';
import type { ResolvedTelemetryConfig } from './internal-types.js';
import { OtlpHttpPoster } from './otlp-http-post.js';
import { Spool } from './spool.js';

/** What the OTLP exporters of one process share: the connection pool, the spool, the report. */
export interface ExportPipeline {
  poster: OtlpHttpPoster;
  /** `undefined` when spooling is off or nothing is exported over OTLP. */
  spool: Spool | undefined;
  failures: ExportFailureReport;
}

/** The shared parts of the OTLP exporters for `config`. */
export function createExportPipeline(config: ResolvedTelemetryConfig): ExportPipeline {
  const poster = new OtlpHttpPoster();
  const tracesOverOtlp = config.tracesExporters.includes('otlp');
  const metricsOverOtlp = config.metricsExporters.includes('otlp');
  const spool =
    config.spool !== undefined && (tracesOverOtlp || metricsOverOtlp)
      ? new Spool(
          config.spool.directory,
          config.spool.maxBytes,
          {
            traces: tracesOverOtlp ? config.otlpTraces : undefined,
            metrics: metricsOverOtlp ? config.otlpMetrics : undefined,
          },
          poster,
        )
      : undefined;
  return { poster, spool, failures: new ExportFailureReport() };
}
