import { context, trace } from '@opentelemetry/api';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { extractTaskEnv, injectTaskEnv, runTask } from '@tasklens/core';
import { startInMemoryTelemetry } from '@tasklens/test-utils';

const parentTraceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
// Set before the first task: the process's parent context is read once, lazily.
process.env.TRACEPARENT = parentTraceparent;
process.env.TRACESTATE = 'vendor=value';

const telemetry = startInMemoryTelemetry();
afterAll(() => telemetry.shutdown());
beforeEach(() => telemetry.reset());

describe('environment carrier', () => {
  it('makes tasks without a parent join the trace the process was started in', async () => {
    await runTask({ name: 'script-step' }, () => 'ok');
    const [span] = telemetry.spans();
    expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span.spanContext().traceState?.get('vendor')).toBe('value');
  });

  it('injects the active context into a copy of the environment, replacing stale values', async () => {
    const env = { PATH: '/bin', TRACEPARENT: 'stale', BAGGAGE: 'stale=1' };
    let childEnv: Record<string, string | undefined> = {};
    let spanId = '';
    await runTask({ name: 'spawner' }, ({ span }) => {
      spanId = span.spanContext().spanId;
      childEnv = injectTaskEnv(env);
    });
    expect(env).toEqual({ PATH: '/bin', TRACEPARENT: 'stale', BAGGAGE: 'stale=1' });
    expect(childEnv.PATH).toBe('/bin');
    expect(childEnv.BAGGAGE).toBeUndefined();
    expect(childEnv.TRACEPARENT).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${spanId}-01`);
    expect(childEnv.TRACESTATE).toBe('vendor=value');
  });

  it('extracts the context from an environment, and nothing from a malformed one', () => {
    const extracted = extractTaskEnv({ TRACEPARENT: parentTraceparent });
    expect(trace.getSpanContext(extracted ?? context.active())?.spanId).toBe('00f067aa0ba902b7');
    expect(extractTaskEnv({ TRACEPARENT: 'garbage' })).toBeUndefined();
    expect(extractTaskEnv({})).toBeUndefined();
  });
});
