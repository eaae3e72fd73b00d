import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ENQUEUED_AT_KEY,
  extractTaskCarrier,
  injectTaskCarrier,
  PIPELINE_STARTED_AT_KEY,
  runTask,
  sendTask,
} from '@tasklens/core';
import { runTaskAttempt, startTaskAttempt } from '@tasklens/core/adapter';
import type { TaskCarrier } from '@tasklens/core';
import { captureDiagWarnings, startInMemoryTelemetry } from '@tasklens/test-utils';

const telemetry = startInMemoryTelemetry();
const warnings = captureDiagWarnings();
afterAll(() => telemetry.shutdown());
beforeEach(() => telemetry.reset());

async function produce(name: string, queue: string): Promise<TaskCarrier> {
  return sendTask({ name, queue, system: 'test-queue', id: 'm-1' }, ({ carrier }) => carrier);
}

describe('producer to consumer through a carrier', () => {
  it('makes the process span a child of the send span (parent mode)', async () => {
    const carrier = await produce('resize', 'images');
    expect(Object.keys(carrier).sort()).toEqual([
      ENQUEUED_AT_KEY,
      PIPELINE_STARTED_AT_KEY,
      'traceparent',
    ]);
    expect(carrier[PIPELINE_STARTED_AT_KEY]).toBe(carrier[ENQUEUED_AT_KEY]);

    await runTaskAttempt(
      { name: 'resize', queue: 'images', system: 'test-queue', carrier },
      () => 'ok',
    );
    const [send, process] = telemetry.spans();
    expect(send.name).toBe('send images');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes).toEqual({
      'task.name': 'resize',
      'task.id': 'm-1',
      'messaging.operation.type': 'send',
      'messaging.system': 'test-queue',
      'messaging.destination.name': 'images',
      'messaging.message.id': 'm-1',
    });
    expect(process.name).toBe('process images');
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.spanContext().traceId).toBe(send.spanContext().traceId);
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(process.links).toEqual([]);
    expect(process.attributes).toMatchObject({
      'messaging.system': 'test-queue',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'images',
      'task.outcome': 'success',
    });
    expect(process.attributes['task.wait.duration']).toBeGreaterThanOrEqual(0);

    expect(await telemetry.metricPoints('task.wait.duration')).toContainEqual(
      expect.objectContaining({
        attributes: {
          'task.name': 'resize',
          'task.queue': 'images',
          'messaging.system': 'test-queue',
        },
        count: 1,
      }),
    );
  });

  it('starts a new trace linked to the producer in link mode', async () => {
    const carrier = await produce('report', 'reports');
    await runTaskAttempt(
      { name: 'report', queue: 'reports', carrier, traceMode: 'link' },
      () => 'ok',
    );
    const [send, process] = telemetry.spans();
    expect(process.spanContext().traceId).not.toBe(send.spanContext().traceId);
    expect(process.parentSpanContext).toBeUndefined();
    expect(process.links.map((link) => link.context.spanId)).toEqual([send.spanContext().spanId]);
  });

  it('links to the ambient span in parent mode and parents to it in link mode', async () => {
    const carrier = await produce('ambient', 'ambient-q');
    const tracer = trace.getTracer('test');
    await tracer.startActiveSpan('poll-loop', async (ambient) => {
      await runTaskAttempt({ name: 'ambient', queue: 'ambient-q', carrier }, () => 'ok');
      await runTaskAttempt(
        { name: 'ambient', queue: 'ambient-q', carrier, traceMode: 'link' },
        () => 1,
      );
      ambient.end();
    });
    const [send, parentMode, linkMode, ambient] = telemetry.spans();
    expect(parentMode.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(parentMode.links.map((link) => link.context.spanId)).toEqual([
      ambient.spanContext().spanId,
    ]);
    expect(linkMode.parentSpanContext?.spanId).toBe(ambient.spanContext().spanId);
    expect(linkMode.links.map((link) => link.context.spanId)).toEqual([send.spanContext().spanId]);
  });

  it('carries baggage to the consumer in both modes', async () => {
    const withBaggage = propagation.setBaggage(
      context.active(),
      propagation.createBaggage({ tenant: { value: 'acme' } }),
    );
    const carrier = await context.with(withBaggage, () => produce('bag', 'bag-q'));
    expect(carrier.baggage).toBe('tenant=acme');
    for (const traceMode of ['parent', 'link'] as const) {
      const tenant = await runTaskAttempt(
        { name: 'bag', carrier, traceMode },
        () => propagation.getActiveBaggage()?.getEntry('tenant')?.value,
      );
      expect(tenant).toBe('acme');
    }
  });

  it('measures the wait from the enqueue time and clamps a future one to zero, counting it', async () => {
    const carrier = injectTaskCarrier({}, context.active(), Date.now() - 1500);
    await runTaskAttempt({ name: 'waited', carrier }, () => 'ok');
    const future = injectTaskCarrier({}, context.active(), Date.now() + 60_000);
    await runTaskAttempt({ name: 'waited', carrier: future }, () => 'ok');

    const [past, skewed] = telemetry.spans();
    expect(past.attributes['task.wait.duration']).toBeGreaterThanOrEqual(1.5);
    expect(skewed.attributes['task.wait.duration']).toBe(0);
    const waits = await telemetry.metricPoints('task.wait.duration');
    const point = waits.find((wait) => wait.attributes['task.name'] === 'waited');
    expect(point?.count).toBe(2);
    expect(point?.sum).toBeGreaterThanOrEqual(1.5);
    expect(await telemetry.metricPoints('task.wait.clock_skew')).toContainEqual({
      attributes: { 'task.name': 'waited' },
      value: 1,
    });
  });

  it('prefers an explicit waitStartedAt (a delayed job waits from when it became due)', () => {
    const carrier = injectTaskCarrier({}, context.active(), Date.now() - 60_000);
    const attempt = startTaskAttempt({
      name: 'delayed',
      carrier,
      waitStartedAt: Date.now() + 60_000,
    });
    attempt.succeed();
    attempt.fail(new Error('ignored: the attempt already ended'));
    const [span] = telemetry.spans();
    expect(span.attributes['task.wait.duration']).toBe(0);
    expect(span.attributes['task.outcome']).toBe('success');
  });
});

describe('hostile and malformed carriers', () => {
  const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const throwingGetter = Object.defineProperty({}, 'traceparent', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  const throwingProxy = new Proxy(
    {},
    {
      getOwnPropertyDescriptor() {
        throw new Error('trap');
      },
    },
  );
  const cases: Array<[string, unknown, string | undefined]> = [
    ['missing carrier', undefined, undefined],
    ['null carrier', null, undefined],
    ['empty carrier', {}, undefined],
    ['string carrier', 'traceparent', 'not-an-object'],
    ['array carrier', [valid], 'not-an-object'],
    ['malformed traceparent', { traceparent: '00-nothex-01' }, 'malformed-traceparent'],
    [
      'all-zero trace id',
      { traceparent: `00-${'0'.repeat(32)}-b7ad6b7169203331-01` },
      'malformed-traceparent',
    ],
    ['non-string traceparent', { traceparent: 42 }, 'non-string-value'],
    ['object traceparent', { traceparent: { toString: () => valid } }, 'non-string-value'],
    [
      '__proto__ key',
      JSON.parse(`{"__proto__": {"traceparent": "${valid}"}}`) as unknown,
      undefined,
    ],
    [
      'megabytes of baggage',
      { traceparent: valid, baggage: `k=${'v'.repeat(4 * 2 ** 20)}` },
      'oversized',
    ],
    ['throwing getter', throwingGetter, 'unreadable'],
    ['throwing proxy', throwingProxy, 'unreadable'],
    ['malformed enqueue time', { [ENQUEUED_AT_KEY]: 'yesterday' }, 'malformed-enqueued-at'],
    [
      'malformed chain start',
      { [PIPELINE_STARTED_AT_KEY]: '-1e400' },
      'malformed-pipeline-started-at',
    ],
    [
      'overlong chain start',
      { [PIPELINE_STARTED_AT_KEY]: '9'.repeat(17) },
      'malformed-pipeline-started-at',
    ],
  ];

  it.each(cases)(
    '%s: runs the task as a new root trace and measures it',
    async (_label, carrier, reason) => {
      const name = `hostile-${String(reason)}-${Math.random()}`;
      const result = await runTaskAttempt({ name, queue: 'hostile', carrier }, () => 'ran');
      expect(result).toBe('ran');

      const [span] = telemetry.spans();
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.links).toEqual([]);
      expect(span.attributes['task.outcome']).toBe('success');
      const pipeline = await telemetry.metricPoints('task.pipeline.duration');
      expect(pipeline.filter((point) => point.attributes['task.name'] === name)).toEqual([]);
      expect(await telemetry.metricPoints('task.duration')).toContainEqual(
        expect.objectContaining({
          attributes: expect.objectContaining({ 'task.name': name }) as unknown,
          count: 1,
        }),
      );
      const rejected = await telemetry.metricPoints('task.carrier.rejected');
      if (reason === undefined) {
        expect(rejected.filter((point) => point.attributes['task.name'] === name)).toEqual([]);
      } else {
        expect(rejected).toContainEqual({ attributes: { reason, 'task.name': name }, value: 1 });
      }
    },
  );

  it('warns once per kind of problem, however many carriers are dropped', async () => {
    const name = 'repeat-offender';
    for (let index = 0; index < 5; index++) {
      await runTaskAttempt({ name, carrier: { traceparent: 7 } }, () => undefined);
    }
    for (const reason of new Set(cases.map(([, , caseReason]) => caseReason))) {
      if (reason === undefined) continue;
      expect(warnings.filter((warning) => warning.includes(`(${reason})`))).toHaveLength(1);
    }
    expect(await telemetry.metricPoints('task.carrier.rejected')).toContainEqual({
      attributes: { reason: 'non-string-value', 'task.name': name },
      value: 5,
    });
  });

  it('extractTaskCarrier never throws and keeps a valid enqueue time of a rejected carrier', () => {
    const extracted = extractTaskCarrier({
      traceparent: 'junk',
      [ENQUEUED_AT_KEY]: '1700000000000',
    });
    expect(extracted).toEqual({
      context: undefined,
      enqueuedAt: 1_700_000_000_000,
      pipelineStartedAt: undefined,
    });
  });
});

describe('task chains (task.pipeline.duration)', () => {
  async function pipelinePoint(name: string) {
    const points = await telemetry.metricPoints('task.pipeline.duration');
    return points.filter((point) => point.attributes['task.name'] === name);
  }

  it('passes the first enqueue time on through every hop and records it at each attempt end', async () => {
    const startedAt = Date.now() - 5000;
    const first = injectTaskCarrier({}, context.active(), startedAt);
    let second: TaskCarrier = {};
    await runTaskAttempt({ name: 'order', queue: 'orders', system: 'q1', carrier: first }, () =>
      sendTask({ name: 'charge', queue: 'charges', system: 'q2' }, ({ carrier }) => {
        second = carrier;
      }),
    );
    expect(second[PIPELINE_STARTED_AT_KEY]).toBe(String(startedAt));
    expect(Number(second[ENQUEUED_AT_KEY])).toBeGreaterThan(startedAt);

    const before = Date.now();
    await runTaskAttempt(
      { name: 'charge', queue: 'charges', system: 'q2', carrier: second },
      () => {
        throw new TypeError('declined');
      },
    ).catch(() => undefined);
    const after = Date.now();

    const [charge] = await pipelinePoint('charge');
    // Labelled by task name, queue and outcome only: no messaging system, no error type.
    expect(charge.attributes).toEqual({
      'task.name': 'charge',
      'task.queue': 'charges',
      'task.outcome': 'failure',
    });
    expect(charge.count).toBe(1);
    expect(charge.sum).toBeGreaterThanOrEqual((before - startedAt) / 1000);
    expect(charge.sum).toBeLessThanOrEqual((after - startedAt) / 1000);
    const [order] = await pipelinePoint('order');
    expect(order.attributes).toEqual({
      'task.name': 'order',
      'task.queue': 'orders',
      'task.outcome': 'success',
    });
  });

  it('puts the attempts of one task and queue on different systems into one series', async () => {
    const carrier = injectTaskCarrier({}, context.active(), Date.now() - 100);
    for (const system of ['bullmq', 'nats']) {
      await runTaskAttempt({ name: 'shared', queue: 'work', system, carrier }, () => 'ok');
    }
    const points = await pipelinePoint('shared');
    expect(points).toHaveLength(1);
    expect(points[0].count).toBe(2);
  });

  it('counts a chain start in the future as clock skew and records 0', async () => {
    const carrier = injectTaskCarrier({}, context.active(), Date.now() + 60_000);
    await runTaskAttempt({ name: 'skewed-chain', carrier }, () => 'ok');
    const [point] = await pipelinePoint('skewed-chain');
    expect(point).toMatchObject({ count: 1, sum: 0 });
    expect(await telemetry.metricPoints('task.pipeline.clock_skew')).toContainEqual({
      attributes: { 'task.name': 'skewed-chain' },
      value: 1,
    });
  });

  it('prefers an explicit pipelineStartedAt (each run of a scheduled job is a chain of its own)', () => {
    const carrier = injectTaskCarrier({}, context.active(), Date.now() - 3_600_000);
    const attempt = startTaskAttempt({
      name: 'scheduled',
      carrier,
      pipelineStartedAt: Date.now() + 60_000,
    });
    attempt.succeed();
    return expect(pipelinePoint('scheduled')).resolves.toEqual([
      expect.objectContaining({ count: 1, sum: 0 }),
    ]);
  });

  it('records nothing for a message without a chain start, whose sends then start a chain', async () => {
    const carrier = injectTaskCarrier({}, context.active(), Date.now() - 1000);
    delete carrier[PIPELINE_STARTED_AT_KEY];
    let sent: TaskCarrier = {};
    await runTaskAttempt({ name: 'legacy', queue: 'old', system: 'q', carrier }, () =>
      sendTask({ name: 'next', queue: 'new' }, ({ carrier: next }) => {
        sent = next;
      }),
    );
    expect(await pipelinePoint('legacy')).toEqual([]);
    expect(sent[PIPELINE_STARTED_AT_KEY]).toBe(sent[ENQUEUED_AT_KEY]);
  });

  it('an in-process task is in the chain it runs in, and in none outside one', async () => {
    const startedAt = Date.now() - 2000;
    const carrier = injectTaskCarrier({}, context.active(), startedAt);
    await runTaskAttempt({ name: 'hop', queue: 'hops', system: 'q', carrier }, () =>
      runTask({ name: 'inner-step' }, () => 'ok'),
    );
    await runTask({ name: 'lonely' }, () => 'ok');
    const [inner] = await pipelinePoint('inner-step');
    expect(inner.attributes).toEqual({ 'task.name': 'inner-step', 'task.outcome': 'success' });
    expect(inner.sum).toBeGreaterThanOrEqual(2);
    expect(await pipelinePoint('lonely')).toEqual([]);
  });

  it('does not let a message without a chain inherit the chain active where it is consumed', async () => {
    const chained = injectTaskCarrier({}, context.active(), Date.now() - 1000);
    let sent: TaskCarrier = {};
    await runTaskAttempt({ name: 'outer', queue: 'a', system: 'q', carrier: chained }, () =>
      runTaskAttempt({ name: 'unchained', queue: 'b', system: 'q', carrier: {} }, () =>
        sendTask({ name: 'after', queue: 'c' }, ({ carrier }) => {
          sent = carrier;
        }),
      ),
    );
    expect(await pipelinePoint('unchained')).toEqual([]);
    expect(sent[PIPELINE_STARTED_AT_KEY]).toBe(sent[ENQUEUED_AT_KEY]);
  });
});
