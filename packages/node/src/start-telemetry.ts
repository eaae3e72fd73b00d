import { context, diag, DiagConsoleLogger, DiagLogLevel } from '@opentelemetry/api';
import { diagLogLevelFromString, suppressTracing } from '@opentelemetry/core';
import { TelemetryConfigError } from './config-error.js';
import { resolveConfig, resolveEnabled } from './config.js';
import { installExitHooks } from './exit-hooks.js';
import { registerGlobalProviders } from './global-registration.js';
import { createDefaultDiagLogger } from './default-diag-logger.js';
import { createExportPipeline } from './export-pipeline.js';
import { createMeterPipeline } from './meter-provider.js';
import { createNoopTelemetry } from './noop-telemetry.js';
import { reportProblem } from './report.js';
import { createResource } from './resource.js';
import { settleWithin } from './settle-within.js';
import { createTracerProvider } from './tracer-provider.js';
import type { Telemetry, TelemetryOptions } from './types.js';

/** Runs our own flushes with tracing suppressed, so nothing they touch produces spans. */
function untraced<T>(work: () => Promise<T>): Promise<T> {
  return context.with(suppressTracing(context.active()), work);
}

/**
 * Starts the OpenTelemetry SDK for tasklens: registers global tracer and meter providers that
 * export over OTLP/HTTP JSON (or to Prometheus pull / the console), an AsyncLocalStorage context
 * manager and the W3C trace-context and baggage propagators. Metrics always use cumulative
 * temporality.
 *
 * Configuration: every {@link TelemetryOptions} field overrides its standard `OTEL_*` variable,
 * which overrides the default.
 *
 * Setup never throws by default. Invalid configuration prints one line to stderr naming the
 * setting and its value and returns a no-op (`enabled: false`, `disabledReason:
 * 'invalid-config'`); with `strict: true` it throws a {@link TelemetryConfigError} instead. Any
 * other setup failure is handled alike (`'setup-failed'`, or rethrown with `strict: true`). When
 * another SDK has already registered a global tracer or meter provider (or this was already
 * called), that SDK is left alone: one line goes to stderr and a no-op with `disabledReason:
 * 'already-registered'` is returned.
 *
 * Unless `handleSignals` is `false`, telemetry is flushed on SIGTERM, SIGINT and `beforeExit`,
 * each flush bounded by `flushTimeoutMs`. After a signal the process ends the default way for that
 * signal when no other listener exists (exit status 143 for SIGTERM); otherwise the application's
 * listener decides. After `beforeExit` the process ends with `process.exitCode`. A process that
 * calls `process.exit()` itself must `await shutdown()` first.
 *
 * @example
 * ```ts
 * import { startTelemetry } from '@tasklens/node';
 *
 * const telemetry = startTelemetry({ serviceName: 'mailer' });
 * // ... run tasks ...
 * await telemetry.shutdown();
 * ```
 */
export function startTelemetry(options: TelemetryOptions = {}): Telemetry {
  try {
    if (!resolveEnabled(options)) return createNoopTelemetry('disabled');
    const config = resolveConfig(options);
    // Dropped carriers and spans are reported through diag: without a logger nobody would see them.
    const logLevel = diagLogLevelFromString(config.logLevel);
    if (logLevel !== undefined) {
      diag.setLogger(new DiagConsoleLogger(), { logLevel, suppressOverrideMessage: true });
    } else {
      // Dropped carriers and spans are reported through diag: without a logger nobody sees them.
      diag.setLogger(createDefaultDiagLogger(), {
        logLevel: DiagLogLevel.WARN,
        suppressOverrideMessage: true,
      });
    }

    const resource = createResource(config.resourceAttributes);
    const pipeline = createExportPipeline(config);
    const tracerProvider = createTracerProvider(config, resource, pipeline);
    const { meterProvider, startServers } = createMeterPipeline(config, resource, pipeline);
    if (!registerGlobalProviders(tracerProvider, meterProvider)) {
      reportProblem(
        'tasklens: a global OpenTelemetry tracer or meter provider is already registered; tasklens leaves it in place and exports nothing itself',
      );
      // Nothing was recorded yet, so this stops the unused pipelines without exporting.
      void Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]).catch(
        () => undefined,
      );
      return createNoopTelemetry('already-registered');
    }
    startServers();
    const { spool } = pipeline;
    if (spool !== undefined) {
      spool.report.observeWith(meterProvider.getMeter('@tasklens/node'));
      context.with(suppressTracing(context.active()), () => spool.start());
    }

    let stopping: Promise<boolean> | undefined;
    const stop = (): Promise<boolean> => {
      stopping ??= (async () => {
        removeExitHooks();
        const finished = await settleWithin(
          untraced(async () => {
            // allSettled: a failed span export rejects its provider's shutdown at once, and the
            // metric export still under way must not be cut off by what follows.
            await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
            await spool?.close();
          }),
          config.flushTimeoutMs,
        );
        pipeline.failures.summarize();
        pipeline.poster.close();
        if (!finished) {
          reportProblem(
            `tasklens: telemetry was not flushed within ${config.flushTimeoutMs} ms (is the collector reachable?); giving up`,
          );
        }
        return finished;
      })();
      return stopping;
    };
    const removeExitHooks = config.handleSignals ? installExitHooks(stop) : () => undefined;

    return {
      enabled: true,
      async forceFlush() {
        if (stopping) return;
        await settleWithin(
          untraced(() => Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()])),
          config.flushTimeoutMs,
        );
      },
      async shutdown() {
        await stop();
      },
    };
  } catch (error) {
    if (options.strict) throw error;
    if (error instanceof TelemetryConfigError) {
      reportProblem(error.message);
      return createNoopTelemetry('invalid-config');
    }
    reportProblem(
      `tasklens: telemetry setup failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    return createNoopTelemetry('setup-failed');
  }
}
