/**
 * Invalid telemetry configuration. Its message is one line naming the variable or option and the
 * bad value, e.g. `tasklens: OTEL_TRACES_EXPORTER="jager" is not one of otlp, console, none`.
 * Thrown by {@link startTelemetry} only with `strict: true`.
 */
export class TelemetryConfigError extends Error {
  /** The environment variable (`OTEL_TRACES_EXPORTER`) or option (`options.tracesExporter`). */
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(message);
    this.name = 'TelemetryConfigError';
    this.setting = setting;
  }
}
