import {
  context,
  diag,
  metrics,
  propagation,
  ProxyTracerProvider,
  trace,
} from '@opentelemetry/api';
import { SDK_INFO } from '@opentelemetry/core';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { startTelemetry, TelemetryConfigError } from '@tasklens/node';
import type { TelemetryOptions } from '@tasklens/node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closedPort, startOtlpReceiver, unregisterGlobals } from '@tasklens/test-utils';
import type { OtlpReceiver } from '@tasklens/test-utils';

let receiver: OtlpReceiver;
let stderrLines: string[];

beforeEach(async () => {
  receiver = await startOtlpReceiver();
  stderrLines = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderrLines.push(String(chunk));
    return true;
  });
});

afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  unregisterGlobals();
  await receiver.close();
});

function options(overrides: TelemetryOptions = {}): TelemetryOptions {
  return { otlpEndpoint: receiver.endpoint, handleSignals: false, env: {}, ...overrides };
}

function registeredTracerProvider(): unknown {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider;
}

describe('startTelemetry', () => {
  it('exports spans and cumulative metrics over OTLP/HTTP JSON with the resource and headers', async () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE', 'delta');
    const telemetry = startTelemetry(
      options({
        env: { OTEL_SERVICE_NAME: 'in-process', OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=secret' },
        serviceInstanceId: 'instance-1',
      }),
    );
    expect(telemetry.enabled).toBe(true);
    expect(telemetry.disabledReason).toBeUndefined();

    const carrier: Record<string, string> = {};
    trace.getTracer('test').startActiveSpan('parent', (parent) => {
      trace.getTracer('test').startSpan('child').end();
      const withBaggage = propagation.setBaggage(
        context.active(),
        propagation.createBaggage({ tenant: { value: 'acme' } }),
      );
      propagation.inject(withBaggage, carrier);
      parent.end();
    });
    metrics.getMeter('test').createCounter('test.count').add(2, { kind: 'a' });
    await telemetry.shutdown();

    const spans = receiver.spans();
    expect(spans.map((span) => span.name)).toEqual(['child', 'parent']);
    const [child, parent] = spans;
    expect(child?.parentSpanId).toBe(parent?.spanId);
    expect(child?.traceId).toBe(parent?.traceId);
    expect(carrier).toEqual({
      traceparent: `00-${parent?.traceId}-${parent?.spanId}-01`,
      baggage: 'tenant=acme',
    });
    expect(parent?.resource).toEqual({
      'service.name': 'in-process',
      'service.instance.id': 'instance-1',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.name': 'opentelemetry',
      // The SDK line installed: 2.x in the workspace, 3.x in the test matrix's copy.
      'telemetry.sdk.version': SDK_INFO['telemetry.sdk.version'],
    });

    const points = receiver.metricPoints('test.count');
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({
      type: 'sum',
      temporality: 'cumulative',
      monotonic: true,
      value: 2,
      attributes: { kind: 'a' },
    });
    expect(receiver.requests().map((request) => request.headers['x-api-key'])).toEqual([
      'secret',
      'secret',
    ]);
  });

  it('forceFlush exports without stopping; shutdown is idempotent', async () => {
    const telemetry = startTelemetry(options());
    trace.getTracer('test').startSpan('first').end();
    await telemetry.forceFlush();
    expect(receiver.spans().map((span) => span.name)).toEqual(['first']);

    trace.getTracer('test').startSpan('second').end();
    await Promise.all([telemetry.shutdown(), telemetry.shutdown()]);
    await telemetry.shutdown();
    await telemetry.forceFlush();
    expect(receiver.spans().map((span) => span.name)).toEqual(['first', 'second']);
  });

  it("shows tasklens's own warnings on stderr when OTEL_LOG_LEVEL is not set", async () => {
    const telemetry = startTelemetry(options());
    diag.warn('tasklens: dropped a carrier (oversized); the task runs as a new trace.');
    diag.error('an SDK error the export failure report covers');
    expect(stderrLines).toEqual([
      'tasklens: dropped a carrier (oversized); the task runs as a new trace.\n',
    ]);
    await telemetry.shutdown();
    diag.disable();
  });

  it('sends nothing with both exporters set to none', async () => {
    const telemetry = startTelemetry(options({ tracesExporter: 'none', metricsExporter: 'none' }));
    expect(telemetry.enabled).toBe(true);
    trace.getTracer('test').startSpan('dropped').end();
    metrics.getMeter('test').createCounter('test.count').add(1);
    await telemetry.shutdown();
    expect(receiver.requests()).toEqual([]);
  });

  it('samples with the configured sampler', async () => {
    const telemetry = startTelemetry(options({ env: { OTEL_TRACES_SAMPLER: 'always_off' } }));
    trace.getTracer('test').startSpan('unsampled').end();
    await telemetry.shutdown();
    expect(receiver.spans()).toEqual([]);
  });

  it('serves metrics for Prometheus to pull', async () => {
    const port = await closedPort();
    const telemetry = startTelemetry(
      options({
        metricsExporter: 'prometheus',
        prometheusHost: '127.0.0.1',
        prometheusPort: port,
        serviceName: 'pulled',
        serviceInstanceId: 'instance-1',
      }),
    );
    metrics.getMeter('test').createCounter('test.count').add(3);
    let body = '';
    for (let attempt = 0; attempt < 50 && body === ''; attempt += 1) {
      body = await fetch(`http://127.0.0.1:${port}/metrics`).then(
        (response) => response.text(),
        () => new Promise<string>((resolve) => setTimeout(() => resolve(''), 20)),
      );
    }
    await telemetry.shutdown();
    // Named and labelled as Prometheus's OTLP receiver stores it (prometheus-pull-exporter.test.ts).
    expect(body).toContain('test_count_total{job="pulled",instance="instance-1"} 3');
    expect(receiver.metricPoints()).toEqual([]);
  });

  it('prints an invalid configuration once and returns a no-op', async () => {
    const telemetry = startTelemetry(options({ env: { OTEL_TRACES_EXPORTER: 'jager' } }));
    expect(telemetry.enabled).toBe(false);
    expect(telemetry.disabledReason).toBe('invalid-config');
    expect(stderrLines).toEqual([
      'tasklens: OTEL_TRACES_EXPORTER="jager" is not one of otlp, console, none\n',
    ]);
    expect(registeredTracerProvider()).toBe(new ProxyTracerProvider().getDelegate());
    await expect(telemetry.forceFlush()).resolves.toBeUndefined();
    await expect(telemetry.shutdown()).resolves.toBeUndefined();
  });

  it('throws TelemetryConfigError on invalid configuration with strict: true', () => {
    expect(() =>
      startTelemetry(options({ strict: true, env: { OTEL_METRIC_EXPORT_INTERVAL: 'often' } })),
    ).toThrow(TelemetryConfigError);
    expect(stderrLines).toEqual([]);
  });

  it('returns a silent no-op when disabled, without reading the rest', async () => {
    const telemetry = startTelemetry(
      options({ env: { OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'jager' } }),
    );
    expect(telemetry.enabled).toBe(false);
    expect(telemetry.disabledReason).toBe('disabled');
    expect(stderrLines).toEqual([]);
    await telemetry.shutdown();
    expect(registeredTracerProvider()).toBe(new ProxyTracerProvider().getDelegate());
  });

  it('leaves a tracer provider registered by another SDK in place', async () => {
    const userProvider = new TracerProvider();
    trace.setGlobalTracerProvider(userProvider);
    const telemetry = startTelemetry(options());
    expect(telemetry.enabled).toBe(false);
    expect(telemetry.disabledReason).toBe('already-registered');
    expect(stderrLines).toEqual([
      'tasklens: a global OpenTelemetry tracer or meter provider is already registered; tasklens leaves it in place and exports nothing itself\n',
    ]);
    expect(registeredTracerProvider()).toBe(userProvider);
    await telemetry.shutdown();
    expect(receiver.requests()).toEqual([]);
  });

  it('leaves a meter provider registered by another SDK in place and registers no tracer', async () => {
    const userProvider = new MeterProvider();
    metrics.setGlobalMeterProvider(userProvider);
    const telemetry = startTelemetry(options());
    expect(telemetry.disabledReason).toBe('already-registered');
    expect(metrics.getMeterProvider()).toBe(userProvider);
    expect(registeredTracerProvider()).toBe(new ProxyTracerProvider().getDelegate());
    await telemetry.shutdown();
  });

  it('treats a second call as already registered', async () => {
    const first = startTelemetry(options());
    const second = startTelemetry(options());
    expect(first.enabled).toBe(true);
    expect(second.disabledReason).toBe('already-registered');
    await first.shutdown();
  });
});
