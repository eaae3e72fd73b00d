import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter } from '@opentelemetry/sdk-trace-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { reportingSpanExporter } from './export-failure-report.js';
import type { ExportFailureReport } from './export-failure-report.js';
import type { ResolvedTelemetryConfig } from './internal-types.js';
import { createSampler } from './sampler.js';

function createSpanExporter(
  name: ResolvedTelemetryConfig['tracesExporters'][number],
  config: ResolvedTelemetryConfig,
  failures: ExportFailureReport,
): SpanExporter {
  switch (name) {
    case 'otlp':
      return reportingSpanExporter(
        new OTLPTraceExporter({
          url: config.otlpTraces.url,
          headers: config.otlpTraces.headers,
          timeoutMillis: config.otlpTraces.timeoutMs,
        }),
        config.otlpTraces.url,
        failures,
      );
    case 'console':
      return new ConsoleSpanExporter();
  }
}

/**
 * A tracer provider with one batch processor (the SDK's bounded queue) per configured exporter.
 * Not registered globally here.
 */
export function createTracerProvider(
  config: ResolvedTelemetryConfig,
  resource: Resource,
  failures: ExportFailureReport,
): NodeTracerProvider {
  return new NodeTracerProvider({
    resource,
    sampler: createSampler(config.sampler, config.samplerArg),
    spanProcessors: config.tracesExporters.map(
      (name) =>
        new BatchSpanProcessor(createSpanExporter(name, config, failures), {
          scheduledDelayMillis: config.spanExportDelayMs,
        }),
    ),
  });
}
