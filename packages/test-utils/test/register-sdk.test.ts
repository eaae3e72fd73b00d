import { metrics, SpanKind, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { registerSdk, startProducerSdk } from '@tasklens/test-utils';
import type { RegisteredSdk } from '@tasklens/test-utils';

let sdk: RegisteredSdk | undefined;
afterEach(async () => {
  await sdk?.shutdown();
  sdk = undefined;
});

describe('registerSdk', () => {
  it('by default keeps every ended span and collects metrics on demand', async () => {
    sdk = registerSdk();
    trace.getTracer('test').startSpan('kept').end();
    metrics.getMeter('test').createCounter('runs').add(2);
    expect(sdk.finishedSpans().map((span) => span.name)).toEqual(['kept']);
    const { scopeMetrics } = await sdk.collectMetrics();
    expect(scopeMetrics.flatMap((scope) => scope.metrics).map((m) => m.descriptor.name)).toEqual([
      'runs',
    ]);
    sdk.resetSpans();
    expect(sdk.finishedSpans()).toEqual([]);
  });

  it('with a batch processor, a discarding exporter and a periodic reader keeps nothing', async () => {
    sdk = registerSdk({
      spanProcessor: 'batch',
      spanExporter: 'discard',
      metricReader: 'periodic',
    });
    trace.getTracer('test').startSpan('dropped').end();
    await sdk.forceFlush();
    expect(sdk.finishedSpans()).toEqual([]);
    expect(sdk.meterProvider).toBeDefined();
    await expect(sdk.collectMetrics()).rejects.toThrow("needs metricReader 'collect'");
  });

  it('unregisters its globals on shutdown', async () => {
    const registered = registerSdk({ metricReader: 'none' });
    expect(registered.meterProvider).toBeUndefined();
    expect(trace.getTracer('test').startSpan('before').isRecording()).toBe(true);
    await registered.shutdown();
    expect(trace.getTracer('test').startSpan('after').isRecording()).toBe(false);
  });
});

describe('the presets', () => {
  it('startProducerSdk hands back finished spans as plain JSON, parent ids included', async () => {
    const producer = startProducerSdk();
    const tracer = trace.getTracer('test');
    tracer.startActiveSpan('parent', { kind: SpanKind.PRODUCER }, (parent) => {
      tracer.startSpan('child').end();
      parent.end();
    });
    const [child, parent] = await producer.finishedSpans();
    await producer.shutdown();
    expect(parent).toMatchObject({
      name: 'parent',
      kind: SpanKind.PRODUCER,
      parentSpanId: undefined,
    });
    expect(child).toMatchObject({
      name: 'child',
      traceId: parent?.traceId,
      parentSpanId: parent?.spanId,
    });
    expect(JSON.parse(JSON.stringify(child))).toEqual(child);
  });
});
