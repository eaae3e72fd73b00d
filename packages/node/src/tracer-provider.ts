import type { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { ExportPipeline } from './export-pipeline.js';
import { OtlpSpanExporter } from './otlp-span-exporter.js';
import type { ResolvedTelemetryConfig } from './internal-types.js';
import { createSampler } from './sampler.js';

function createSpanExporter(
  name: ResolvedTelemetryConfig['tracesExporters'][number],
  config: ResolvedTelemetryConfig,
  pipeline: ExportPipeline,
): SpanExporter {
  switch (name) {
    case 'otlp':
      return new OtlpSpanExporter(
        config.otlpTraces,
        pipeline.poster,
        pipeline.spool,
        pipeline.failures,
      );
    case 'console':
      return new ConsoleSpanExporter();
  }
}

/**
 * A tracer provider with one batch processor (the SDK's bounded queue) per configured exporter.
 * Not registered globally here (see global-registration.ts, which also sets the context manager
 * and propagators). `@opentelemetry/sdk-trace` has the same provider on the 2.x and 3.x lines.
 */
export function createTracerProvider(
  config: ResolvedTelemetryConfig,
  resource: Resource,
  pipeline: ExportPipeline,
): TracerProvider {
  return new TracerProvider({
    resource,
    sampler: createSampler(config.sampler, config.samplerArg),
    spanProcessors: config.tracesExporters.map(
      (name) =>
        new BatchSpanProcessor({
          exporter: createSpanExporter(name, config, pipeline),
          scheduledDelayMillis: config.spanExportDelayMs,
        }),
    ),
  });
}
