/** Where spans go. `none` turns tracing export off; the others may be combined. */
export type TracesExporterName = 'otlp' | 'console' | 'none';

/**
 * Where metrics go. `prometheus` serves a pull endpoint instead of pushing; `none` turns metrics
 * export off; the others may be combined.
 */
export type MetricsExporterName = 'otlp' | 'prometheus' | 'console' | 'none';

/** The samplers of the OpenTelemetry specification, named as in `OTEL_TRACES_SAMPLER`. */
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

/** A resource attribute value, as accepted by OpenTelemetry resources. */
export type ResourceAttributeValue = string | number | boolean;

/**
 * Options of {@link startTelemetry}. Every option overrides its environment variable, which
 * overrides the default; an option left `undefined` falls through to the environment.
 */
export interface TelemetryOptions {
  /** `service.name`. Env `OTEL_SERVICE_NAME`; default `unknown_service:<argv0>`. */
  serviceName?: string;
  /**
   * `service.instance.id`. Env: the `service.instance.id` entry of `OTEL_RESOURCE_ATTRIBUTES`;
   * default a random UUID per process.
   */
  serviceInstanceId?: string;
  /**
   * Extra resource attributes, merged over `OTEL_RESOURCE_ATTRIBUTES` (these win per key).
   * Default none.
   */
  resourceAttributes?: Readonly<Record<string, ResourceAttributeValue>>;
  /** Span exporters. Env `OTEL_TRACES_EXPORTER` (comma-separated); default `otlp`. */
  tracesExporter?: TracesExporterName | readonly TracesExporterName[];
  /** Metric exporters. Env `OTEL_METRICS_EXPORTER` (comma-separated); default `otlp`. */
  metricsExporter?: MetricsExporterName | readonly MetricsExporterName[];
  /**
   * Base OTLP/HTTP endpoint; `/v1/traces` and `/v1/metrics` are appended.
   * Env `OTEL_EXPORTER_OTLP_ENDPOINT`; default `http://localhost:4318`.
   */
  otlpEndpoint?: string;
  /**
   * Full URL for spans, used as is. Env `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`;
   * default the base endpoint + `/v1/traces`.
   */
  otlpTracesEndpoint?: string;
  /**
   * Full URL for metrics, used as is. Env `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`;
   * default the base endpoint + `/v1/metrics`.
   */
  otlpMetricsEndpoint?: string;
  /**
   * Headers sent with every export, merged over `OTEL_EXPORTER_OTLP_HEADERS` and the per-signal
   * `OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `OTEL_EXPORTER_OTLP_METRICS_HEADERS` (these win per key).
   * Default none.
   */
  otlpHeaders?: Readonly<Record<string, string>>;
  /**
   * Timeout of one OTLP export, retries included, in ms. Env `OTEL_EXPORTER_OTLP_TIMEOUT` (and the
   * per-signal `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`);
   * default 10000. Capped at `flushTimeoutMs`, so no export keeps a process alive after a flush
   * gave up.
   */
  otlpTimeoutMs?: number;
  /**
   * Bucket boundaries, in seconds and increasing, of the task histograms in place of the defaults
   * (5 ms to 1 h: 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
   * 1800, 3600): `duration` (task.duration), `wait` (task.wait.duration) and `pipeline`
   * (task.pipeline.duration). Env `TASKLENS_DURATION_BUCKETS`, `TASKLENS_WAIT_BUCKETS`,
   * `TASKLENS_PIPELINE_BUCKETS`, comma-separated (`0.1,0.5,1,5,30`). The quantiles of the rules,
   * the dashboard and `tasklens stats` are estimated within buckets, so choose boundaries near the
   * thresholds you alert on; give every process of a task the same boundaries (the quantiles sum
   * buckets across processes by `le`).
   */
  histogramBuckets?: HistogramBuckets;
  /** Interval between metric pushes in ms. Env `OTEL_METRIC_EXPORT_INTERVAL`; default 60000. */
  metricExportIntervalMs?: number;
  /**
   * Timeout of one metric push in ms, capped at the interval. Env `OTEL_METRIC_EXPORT_TIMEOUT`;
   * default 30000.
   */
  metricExportTimeoutMs?: number;
  /**
   * Longest time a finished span waits in the batch before it is exported, in ms.
   * Env `OTEL_BSP_SCHEDULE_DELAY`; default 1000 (the SDK's own default is 5000: tasks are few
   * and someone is usually waiting to see a failed one).
   */
  spanExportDelayMs?: number;
  /**
   * Interface the Prometheus pull endpoint listens on. Env `OTEL_EXPORTER_PROMETHEUS_HOST`;
   * default `localhost`.
   */
  prometheusHost?: string;
  /** Port of the Prometheus pull endpoint. Env `OTEL_EXPORTER_PROMETHEUS_PORT`; default 9464. */
  prometheusPort?: number;
  /** Sampler. Env `OTEL_TRACES_SAMPLER`; default `parentbased_always_on`. */
  sampler?: SamplerName;
  /**
   * Ratio in [0, 1] for the `traceidratio` samplers (ignored by the others).
   * Env `OTEL_TRACES_SAMPLER_ARG`; default 1.
   */
  samplerArg?: number;
  /**
   * Upper bound in ms on flushing at shutdown, at a signal and at exit, so a process never hangs
   * on an unreachable collector. Env `TASKLENS_FLUSH_TIMEOUT_MS`; default 5000.
   */
  flushTimeoutMs?: number;
  /**
   * Keep telemetry the collector does not take (refused, timed out, overloaded) in an on-disk
   * spool and send it when the collector answers again, from this process or the next one of the
   * same service. Env `TASKLENS_SPOOL_ENABLED` (`true`/`false`); default `true`.
   */
  spoolEnabled?: boolean;
  /**
   * Directory of the spool; each service gets a folder in it, shared by all its processes.
   * Env `TASKLENS_SPOOL_DIR`; default `$XDG_STATE_HOME/tasklens/spool`, else
   * `~/.local/state/tasklens/spool`.
   */
  spoolDirectory?: string;
  /**
   * Size cap of one service's spool in MiB. When full, batches of successful spans go first, then
   * metric exports; batches holding a failed task's span go last. Env `TASKLENS_SPOOL_MAX_MIB`;
   * default 100.
   */
  spoolMaxMiB?: number;
  /**
   * Flush on SIGTERM, SIGINT and `beforeExit`. Default `true`. See {@link startTelemetry} for
   * what happens after the flush.
   */
  handleSignals?: boolean;
  /**
   * Whether to start at all. Env `OTEL_SDK_DISABLED=true` disables; default `true`.
   */
  enabled?: boolean;
  /**
   * Throw a {@link TelemetryConfigError} on invalid configuration (and rethrow any other setup
   * failure) instead of printing it and returning a no-op. Default `false`.
   */
  strict?: boolean;
  /** Environment to read the variables from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Why {@link Telemetry} does nothing. */
export type TelemetryDisabledReason =
  /** `enabled: false` or `OTEL_SDK_DISABLED=true`. */
  | 'disabled'
  /** The configuration was invalid; the message went to stderr. */
  | 'invalid-config'
  /** Another OpenTelemetry SDK already registered a global tracer or meter provider. */
  | 'already-registered'
  /** Building the SDK failed for another reason; the message went to stderr. */
  | 'setup-failed';

/** The running telemetry returned by {@link startTelemetry}. */
export interface Telemetry {
  /** `true` when this call registered the providers and exports. */
  readonly enabled: boolean;
  /** Set when `enabled` is `false`. */
  readonly disabledReason?: TelemetryDisabledReason;
  /**
   * Exports everything buffered, without stopping. Bounded by `flushTimeoutMs`; never rejects.
   */
  forceFlush(): Promise<void>;
  /**
   * Flushes and stops the providers and removes the signal and exit listeners. Idempotent (every
   * call returns the same promise); bounded by `flushTimeoutMs`; never rejects.
   */
  shutdown(): Promise<void>;
}

/** Bucket boundaries in seconds, increasing, per task histogram (`TelemetryOptions.histogramBuckets`). */
export type HistogramBuckets = Readonly<
  Partial<Record<'duration' | 'wait' | 'pipeline', readonly number[]>>
>;
