import { context, trace } from '@opentelemetry/api';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  extractTaskEnv,
  injectTaskCarrier,
  injectTaskEnv,
  runTask,
  sendTask,
} from '@tasklens/core';
import { runTaskAttempt } from '@tasklens/core/adapter';
import { startInMemoryTelemetry } from '@tasklens/test-utils';

const parentTraceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const chainStartedAt = Date.now() - 10_000;
// Set before the first task: the process's parent context is read once, lazily.
process.env.TRACEPARENT = parentTraceparent;
process.env.TRACESTATE = 'vendor=value';
process.env.TASKLENS_PIPELINE_STARTED_AT = String(chainStartedAt);

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
    const env = {
      PATH: '/bin',
      TRACEPARENT: 'stale',
      BAGGAGE: 'stale=1',
      TASKLENS_PIPELINE_STARTED_AT: 'stale',
    };
    let childEnv: Record<string, string | undefined> = {};
    let spanId = '';
    await runTask({ name: 'spawner' }, ({ span }) => {
      spanId = span.spanContext().spanId;
      childEnv = injectTaskEnv(env);
    });
    expect(env).toMatchObject({ TRACEPARENT: 'stale', TASKLENS_PIPELINE_STARTED_AT: 'stale' });
    expect(childEnv.PATH).toBe('/bin');
    expect(childEnv.BAGGAGE).toBeUndefined();
    expect(childEnv.TRACEPARENT).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${spanId}-01`);
    expect(childEnv.TRACESTATE).toBe('vendor=value');
    // The script joined the chain this process was started in, and passes it on.
    expect(childEnv.TASKLENS_PIPELINE_STARTED_AT).toBe(String(chainStartedAt));
  });

  it('passes the chain of a message on to a child process, which continues it', async () => {
    const messageChain = Date.now() - 3000;
    const carrier = injectTaskCarrier({}, context.active(), messageChain);
    let childEnv: Record<string, string | undefined> = {};
    await runTaskAttempt({ name: 'spawning-worker', queue: 'w', system: 'q', carrier }, () => {
      childEnv = injectTaskEnv({});
    });
    expect(childEnv.TASKLENS_PIPELINE_STARTED_AT).toBe(String(messageChain));

    // What the child does with it: its messages carry the chain on.
    const inChild = extractTaskEnv(childEnv);
    const sent = await context.with(inChild ?? context.active(), () =>
      sendTask({ name: 'from-child', queue: 'c' }, ({ carrier: next }) => next),
    );
    expect(sent['tasklens-pipeline-started-at']).toBe(String(messageChain));
  });

  it('records the pipeline duration of a script’s task from the chain it was started in', async () => {
    await runTask({ name: 'chained-script' }, () => 'ok');
    const [point] = (await telemetry.metricPoints('task.pipeline.duration')).filter(
      (candidate) => candidate.attributes['task.name'] === 'chained-script',
    );
    expect(point.count).toBe(1);
    expect(point.sum).toBeGreaterThanOrEqual(10);
  });

  it('extracts the context from an environment, and nothing from a malformed one', () => {
    const extracted = extractTaskEnv({ TRACEPARENT: parentTraceparent });
    expect(trace.getSpanContext(extracted ?? context.active())?.spanId).toBe('00f067aa0ba902b7');
    expect(extractTaskEnv({ TRACEPARENT: 'garbage' })).toBeUndefined();
    expect(extractTaskEnv({ TASKLENS_PIPELINE_STARTED_AT: 'soon' })).toBeUndefined();
    expect(extractTaskEnv({})).toBeUndefined();
  });
});
