import type { Resource } from '@opentelemetry/resources';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { MetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { ExportPipeline } from './export-pipeline.js';
import type { ResolvedTelemetryConfig } from './internal-types.js';
import { OtlpMetricExporter } from './otlp-metric-exporter.js';
import { PrometheusPullExporter } from './prometheus-pull-exporter.js';
import { reportProblem } from './report.js';
import { TaskMetricsProducer } from './task-metrics-producer.js';

/** A meter provider and the start of its pull endpoints, deferred until it is registered. */
export interface MeterPipeline {
  meterProvider: MeterProvider;
  startServers: () => void;
}

function createPushExporter(
  name: 'otlp' | 'console',
  config: ResolvedTelemetryConfig,
  pipeline: ExportPipeline,
): PushMetricExporter {
  if (name === 'console') return new ConsoleMetricExporter();
  return new OtlpMetricExporter(
    config.otlpMetrics,
    pipeline.poster,
    pipeline.spool,
    pipeline.failures,
  );
}

/**
 * A meter provider with one reader per configured exporter. Histogram buckets come from the
 * instruments' advice, so there are no views; the task histograms come from the task metrics
 * producer on every reader.
 */
export function createMeterPipeline(
  config: ResolvedTelemetryConfig,
  resource: Resource,
  pipeline: ExportPipeline,
): MeterPipeline {
  const taskMetrics = new TaskMetricsProducer(resource, config.histogramBuckets);
  const metricProducers = [taskMetrics];
  const prometheusExporters: PrometheusPullExporter[] = [];
  const readers: MetricReader[] = config.metricsExporters.map((name) => {
    if (name === 'prometheus') {
      const exporter = new PrometheusPullExporter({
        host: config.prometheusHost,
        port: config.prometheusPort,
        preventServerStart: true,
        metricProducers,
      });
      prometheusExporters.push(exporter);
      return exporter;
    }
    return new PeriodicExportingMetricReader({
      exporter: createPushExporter(name, config, pipeline),
      exportIntervalMillis: config.metricExportIntervalMs,
      exportTimeoutMillis: config.metricExportTimeoutMs,
      metricProducers,
    });
  });
  const meterProvider = new MeterProvider({ resource, readers });
  taskMetrics.offerTo(meterProvider);
  return {
    meterProvider,
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
