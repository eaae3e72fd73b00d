export { startTelemetry } from './start-telemetry.js';
export { TelemetryConfigError } from './config-error.js';
export { TaskMetricsProducer } from './task-metrics-producer.js';
export { PrometheusPullExporter } from './prometheus-pull-exporter.js';
export type {
  HistogramBuckets,
  MetricsExporterName,
  ResourceAttributeValue,
  SamplerName,
  Telemetry,
  TelemetryDisabledReason,
  TelemetryOptions,
  TracesExporterName,
} from './types.js';
export { SPOOL_METRICS } from './spool-metric-names.js';
export type { SpoolEvent, SpoolMetricName, SpoolSignal } from './spool-metric-names.js';
