/*
 * The attempt that ends on its message's settlement, as every queue adapter uses it: the end
 * rule (handler finished and message settled), the outcome of each settlement, handler errors,
 * the settle timeout, cancellation and the subclass hooks; with the real SDK recording to memory.
 */
import { diag, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LimitedWarning, SettledAttempt, startTaskAttempt } from '@tasklens/core/adapter';
import type { Settlement, SettledAttemptOptions } from '@tasklens/core/adapter';
import { captureDiagWarnings, startInMemoryTelemetry } from '@tasklens/test-utils';

const telemetry = startInMemoryTelemetry();
afterAll(() => telemetry.shutdown());
beforeEach(() => telemetry.reset());

const ACK: Settlement = { verb: 'ack' };
const nack = (requeue: boolean): Settlement => ({
  verb: 'nack',
  rejection: new RangeError('nacked'),
  requeue,
});

function settledAttempt(options: Partial<SettledAttemptOptions> = {}): SettledAttempt {
  return new SettledAttempt(startTaskAttempt({ name: 'settled', queue: 'q', system: 'test' }), {
    settleTimeoutMs: 60_000,
    settleAfterHandlerError: false,
    ...options,
  });
}

function awaiting(options: Partial<SettledAttemptOptions> = {}): SettledAttempt {
  const attempt = settledAttempt(options);
  attempt.awaitSettlement();
  return attempt;
}

function theSpan() {
  const spans = telemetry.spans();
  expect(spans).toHaveLength(1);
  return spans[0];
}

const returns = (): string => 'done';
const throws = (error: Error) => (): never => {
  throw error;
};

describe('the end rule', () => {
  it('awaiting settlement: ends on the ack after the handler returned', () => {
    const attempt = awaiting();
    expect(attempt.run(returns, undefined, undefined)).toBe('done');
    expect(telemetry.spans()).toHaveLength(0);
    attempt.settle(ACK);
    attempt.settle(nack(true));
    expect(theSpan().attributes).toMatchObject({
      'task.outcome': 'success',
      'task.settlement': 'ack',
    });
    expect(theSpan().attributes['task.requeue']).toBeUndefined();
  });

  it('settled while the handler runs: ends when the handler does', async () => {
    const attempt = awaiting();
    let finish: () => void = () => undefined;
    const running = attempt.run(
      () => new Promise<void>((resolve) => (finish = resolve)),
      undefined,
      undefined,
    );
    attempt.settle(ACK);
    await Promise.resolve();
    expect(telemetry.spans()).toHaveLength(0);
    finish();
    await running;
    expect(theSpan().attributes['task.outcome']).toBe('success');
  });

  it('not awaiting settlement: ends with the handler', async () => {
    const attempt = settledAttempt();
    await attempt.run(() => Promise.resolve(1), undefined, undefined);
    expect(theSpan().attributes['task.outcome']).toBe('success');
    expect(theSpan().attributes['task.settlement']).toBeUndefined();
  });

  it('runs the handler in the attempt’s context, with both arguments', () => {
    const attempt = settledAttempt();
    const seen = attempt.run((a: number, b: string) => `${a}${b}`, 1, 'b');
    expect(seen).toBe('1b');
  });
});

describe('negative settlements', () => {
  it('a requeued nack fails the attempt, retrying, with the settlement’s error', () => {
    const attempt = awaiting();
    attempt.run(returns, undefined, undefined);
    attempt.settle(nack(true));
    const span = theSpan();
    expect(span.attributes).toMatchObject({
      'task.outcome': 'failure',
      'task.settlement': 'nack',
      'task.requeue': true,
      'task.retrying': true,
      'error.type': 'RangeError',
    });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'nacked' });
  });

  it('on the last delivery a requeued nack is a final failure', () => {
    const attempt = awaiting({ lastDelivery: true });
    attempt.run(returns, undefined, undefined);
    attempt.settle(nack(true));
    expect(theSpan().attributes['task.retrying']).toBeUndefined();
    expect(theSpan().attributes['task.outcome']).toBe('failure');
  });

  it('adds the settlement’s own attributes', () => {
    const attempt = awaiting();
    attempt.run(returns, undefined, undefined);
    attempt.settle({ ...nack(false), attributes: { 'task.dead_lettered': true } });
    expect(theSpan().attributes).toMatchObject({
      'task.requeue': false,
      'task.dead_lettered': true,
    });
    expect(theSpan().attributes['task.retrying']).toBeUndefined();
  });
});

describe('a handler that throws', () => {
  it('ending at once: a failure retried by the broker’s redelivery; later settlements change nothing', () => {
    const attempt = awaiting();
    const error = new TypeError('bad payload');
    expect(() => attempt.run(throws(error), undefined, undefined)).toThrow(error);
    attempt.settle(ACK);
    expect(theSpan().attributes).toMatchObject({
      'task.outcome': 'failure',
      'task.retrying': true,
      'error.type': 'TypeError',
    });
  });

  it('waiting for the settlement: a nack fails with the handler’s error', async () => {
    const attempt = awaiting({ settleAfterHandlerError: true });
    const error = new TypeError('bad payload');
    await expect(attempt.run(() => Promise.reject(error), undefined, undefined)).rejects.toBe(
      error,
    );
    expect(telemetry.spans()).toHaveLength(0);
    attempt.settle(nack(false));
    const span = theSpan();
    expect(span.attributes['error.type']).toBe('TypeError');
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
  });

  it('waiting for the settlement: an ack is a success with the error recorded', () => {
    const attempt = awaiting({ settleAfterHandlerError: true });
    expect(() => attempt.run(throws(new TypeError('x')), undefined, undefined)).toThrow();
    attempt.settle(ACK);
    expect(theSpan().attributes['task.outcome']).toBe('success');
    expect(theSpan().events.map((event) => event.name)).toEqual(['exception']);
  });

  it('not awaiting settlement: a failure nobody retries', () => {
    const attempt = settledAttempt();
    expect(() => attempt.run(throws(new TypeError('x')), undefined, undefined)).toThrow();
    expect(theSpan().attributes['task.outcome']).toBe('failure');
    expect(theSpan().attributes['task.retrying']).toBeUndefined();
  });
});

describe('timeout and cancel', () => {
  let warnings: string[];
  beforeEach(() => {
    warnings = captureDiagWarnings();
  });
  afterEach(() => diag.disable());

  it('unsettled past settleTimeoutMs: outcome timeout, retried, signal aborted, warned', async () => {
    const attempt = awaiting({ settleTimeoutMs: 40 });
    const { signal } = attempt.task;
    attempt.run(returns, undefined, undefined);
    await vi.waitFor(() => expect(telemetry.spans()).toHaveLength(1), { timeout: 2000 });
    attempt.settle(ACK);
    expect(theSpan().attributes).toMatchObject({
      'task.outcome': 'timeout',
      'task.retrying': true,
      'error.type': 'TaskTimeoutError',
    });
    expect(signal.aborted).toBe(true);
    expect(warnings.some((warning) => warning.includes('settle timeout'))).toBe(true);
  });

  it('extend() restarts the settle timeout', async () => {
    const attempt = awaiting({ settleTimeoutMs: 150 });
    attempt.run(returns, undefined, undefined);
    for (let step = 0; step < 4; step++) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      attempt.extend();
    }
    expect(telemetry.spans()).toHaveLength(0);
    attempt.settle(ACK);
    expect(theSpan().attributes['task.outcome']).toBe('success');
  });

  it('cancel() ends an open attempt as cancelled, once', () => {
    const attempt = awaiting();
    attempt.run(returns, undefined, undefined);
    attempt.cancel();
    attempt.cancel();
    attempt.settle(ACK);
    expect(theSpan().attributes['task.outcome']).toBe('cancelled');
  });
});

describe('subclass hooks', () => {
  class AutoSettled extends SettledAttempt {
    readonly calls: string[] = [];
    protected override handlerEnding(failed: boolean): void {
      this.calls.push(`ending ${String(failed)}`);
      this.settle(failed ? nack(true) : ACK);
    }
    protected override ended(): void {
      this.calls.push('ended');
    }
  }

  it('handlerEnding runs before the handler’s end is taken into account, ended once at the end', () => {
    const attempt = new AutoSettled(startTaskAttempt({ name: 'hooks' }), {
      settleTimeoutMs: 60_000,
      settleAfterHandlerError: false,
    });
    attempt.awaitSettlement();
    expect(() => attempt.run(throws(new TypeError('x')), undefined, undefined)).toThrow();
    expect(attempt.calls).toEqual(['ending true', 'ended']);
    expect(theSpan().attributes).toMatchObject({ 'task.settlement': 'nack', 'task.requeue': true });
  });
});

describe('LimitedWarning', () => {
  afterEach(() => {
    vi.useRealTimers();
    diag.disable();
  });

  it('says the first occurrence, then at most once a minute with the count since', () => {
    vi.useFakeTimers({ now: 0 });
    const warnings = captureDiagWarnings();
    const warning = new LimitedWarning('a bad thing happened');
    warning.report();
    warning.report();
    vi.setSystemTime(30_000);
    warning.report();
    expect(warnings).toEqual(['tasklens: a bad thing happened; said at most once a minute']);
    vi.setSystemTime(61_000);
    warning.report();
    expect(warnings[1]).toBe(
      'tasklens: a bad thing happened (3 times in the last minute); said at most once a minute',
    );
  });
});
