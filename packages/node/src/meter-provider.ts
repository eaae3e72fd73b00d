import {
  AggregationTemporalityPreference,
  OTLPMetricExporter,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { MetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { reportingMetricExporter } from './export-failure-report.js';
import type { ExportFailureReport } from './export-failure-report.js';
import type { ResolvedTelemetryConfig } from './internal-types.js';
import { reportProblem } from './report.js';

/** A meter provider and the start of its pull endpoints, deferred until it is registered. */
export interface MeterPipeline {
  meterProvider: MeterProvider;
  startServers: () => void;
}

function createPushExporter(
  name: 'otlp' | 'console',
  config: ResolvedTelemetryConfig,
  failures: ExportFailureReport,
): PushMetricExporter {
  if (name === 'console') return new ConsoleMetricExporter();
  return reportingMetricExporter(
    new OTLPMetricExporter({
      url: config.otlpMetrics.url,
      headers: config.otlpMetrics.headers,
      timeoutMillis: config.otlpMetrics.timeoutMs,
      // Prometheus remote write needs cumulative series; this overrides the env preference.
      temporalityPreference: AggregationTemporalityPreference.CUMULATIVE,
    }),
    config.otlpMetrics.url,
    failures,
  );
}

/**
 * A meter provider with one reader per configured exporter. Histogram buckets come from the
 * instruments' advice, so there are no views.
 */
export function createMeterPipeline(
  config: ResolvedTelemetryConfig,
  resource: Resource,
  failures: ExportFailureReport,
): MeterPipeline {
  const prometheusExporters: PrometheusExporter[] = [];
  const readers: MetricReader[] = config.metricsExporters.map((name) => {
    if (name === 'prometheus') {
      const exporter = new PrometheusExporter({
        host: config.prometheusHost,
        port: config.prometheusPort,
        preventServerStart: true,
      });
      prometheusExporters.push(exporter);
      return exporter;
    }
    return new PeriodicExportingMetricReader({
      exporter: createPushExporter(name, config, failures),
      exportIntervalMillis: config.metricExportIntervalMs,
      exportTimeoutMillis: config.metricExportTimeoutMs,
    });
  });
  return {
    meterProvider: new MeterProvider({ resource, readers }),
    startServers: () => {
      for (const exporter of prometheusExporters) {
        exporter.startServer().catch((error: unknown) => {
          reportProblem(
            `tasklens: the Prometheus endpoint on ${config.prometheusHost}:${config.prometheusPort} did not start: ${error instanceof Error ? error.message : String(error)}`,
          );
        });
      }
    },
  };
}
