import type {
  HistogramBuckets,
  MetricsExporterName,
  ResourceAttributeValue,
  SamplerName,
  TracesExporterName,
} from './types.js';

/** Where and how one OTLP/HTTP exporter sends. */
export interface OtlpSignalConfig {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/** The task histograms whose buckets can be set. */
export type HistogramName = keyof HistogramBuckets;

/** The configuration after merging options, environment and defaults; every field decided. */
export interface ResolvedTelemetryConfig {
  resourceAttributes: Record<string, ResourceAttributeValue>;
  /** Empty when traces are not exported (`none`). */
  tracesExporters: Exclude<TracesExporterName, 'none'>[];
  /** Empty when metrics are not exported (`none`). */
  metricsExporters: Exclude<MetricsExporterName, 'none'>[];
  otlpTraces: OtlpSignalConfig;
  otlpMetrics: OtlpSignalConfig;
  /** Only the histograms whose buckets were set; the others keep core's defaults. */
  histogramBuckets: Partial<Record<HistogramName, number[]>>;
  metricExportIntervalMs: number;
  metricExportTimeoutMs: number;
  spanExportDelayMs: number;
  prometheusHost: string;
  prometheusPort: number;
  sampler: SamplerName;
  samplerArg: number;
  flushTimeoutMs: number;
  /** `undefined` when spooling is off. */
  spool: SpoolConfig | undefined;
  handleSignals: boolean;
  /** `OTEL_LOG_LEVEL`; `undefined` leaves the diag logger alone. */
  logLevel: LogLevelName | undefined;
}

/** Where the spool of this process's service lives. */
export interface SpoolConfig {
  /** The service's own folder inside the configured spool directory. */
  directory: string;
  maxBytes: number;
}

/** The values of `OTEL_LOG_LEVEL`. */
export type LogLevelName = 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';
